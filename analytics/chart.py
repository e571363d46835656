"""The report's chart: NPS with its band, the category shares and the volume, on one real date axis (no twin
y-axis), so a year without answers shows as a gap."""

import io
import math
from datetime import date, timedelta
from typing import Any, List, Optional, Sequence, Tuple

from analytics.report_data import Month, month_gaps

RED, GREY, GREEN, BLUE, BAND = "#d9534f", "#c8c8c8", "#5cb85c", "#1f3a93", "#9fb3e0"
#: at most this many months get their NPS written beside the point (more would overlap)
ANNOTATE_UP_TO = 24


def _days(month: date) -> int:
    return ((month.replace(day=28) + timedelta(days=4)).replace(day=1) - month).days


def _middle(month: date) -> date:
    return month + timedelta(days=_days(month) // 2)


def _broken(months: Sequence[Month], values: Sequence[Optional[float]]) -> Tuple[list, list]:
    """x and y with a NaN between months that are not neighbours, so a line breaks at a gap."""
    xs: list = []
    ys: list = []
    for i, (m, v) in enumerate(zip(months, values, strict=True)):
        if i and m.index - months[i - 1].index > 1:
            xs.append(_middle(m.month) - timedelta(days=1))
            ys.append(math.nan)
        xs.append(_middle(m.month))
        ys.append(math.nan if v is None else v)
    return xs, ys


def render_png(months: List[Month], title: str) -> bytes:
    """The chart as PNG bytes (matplotlib's Agg backend: no display needed)."""
    import matplotlib.pyplot as plt

    fig = build_figure(months, title)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return buffer.getvalue()


def build_figure(months: List[Month], title: str) -> Any:
    """The matplotlib figure: NPS panel, shares panel, volume panel, and a legend under them."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    fig, (nps_ax, share_ax, volume_ax) = plt.subplots(
        3, 1, figsize=(11, 8.2), sharex=True, gridspec_kw={"height_ratios": [2.4, 1.6, 1]}, layout="constrained"
    )
    fig.suptitle(title, fontsize=13)

    # NPS and its band
    xs, ys = _broken(months, [m.nps for m in months])
    _, lows = _broken(months, [m.ci_low for m in months])
    _, highs = _broken(months, [m.ci_high for m in months])
    nps_ax.fill_between(xs, lows, highs, color=BAND, alpha=0.55, linewidth=0, label="95 % confidence band")
    nps_ax.plot(xs, ys, color=BLUE, linewidth=2, label="NPS")
    # the interval of each month too: a month alone between gaps has no band to show
    shown = [m for m in months if m.nps is not None and m.ci_low is not None]
    nps_ax.errorbar(
        [_middle(m.month) for m in shown],
        [m.nps for m in shown],
        yerr=[[m.nps - m.ci_low for m in shown], [m.ci_high - m.nps for m in shown]],
        fmt="none",
        ecolor=BLUE,
        elinewidth=0.8,
        capsize=2.5,
        alpha=0.6,
    )
    solid = [m for m in months if m.nps is not None and not m.small_sample]
    small = [m for m in months if m.nps is not None and m.small_sample]
    nps_ax.plot([_middle(m.month) for m in solid], [m.nps for m in solid], "o", color=BLUE, markersize=5)
    if small:
        nps_ax.plot(
            [_middle(m.month) for m in small],
            [m.nps for m in small],
            "o",
            markerfacecolor="white",
            markeredgecolor=BLUE,
            markersize=6,
            label="small sample (n < 30 or margin > 10)",
        )
    if len(months) <= ANNOTATE_UP_TO:
        for m in months:
            if m.nps is not None:
                # beside the point, not above it, where the interval's cap is
                where = (_middle(m.month), m.nps)
                nps_ax.annotate(str(m.nps), where, textcoords="offset points", xytext=(4, 3), ha="left", fontsize=8)
    nps_ax.axhline(0, color="#555", linewidth=0.8)
    nps_ax.set_ylim(-100, 100)
    nps_ax.set_yticks([-100, -50, 0, 50, 100])
    nps_ax.set_ylabel("NPS")
    nps_ax.grid(axis="y", color="#eee")

    # shares, as stacked bars over each month's own dates
    starts = [m.month for m in months]
    widths = [_days(m.month) * 0.85 for m in months]
    detractors = [m.share(m.detractors) for m in months]
    passives = [m.share(m.passives) for m in months]
    promoters = [m.share(m.promoters) for m in months]
    share_ax.bar(starts, detractors, width=widths, align="edge", color=RED, label="detractors (0–6)")
    share_ax.bar(starts, passives, width=widths, align="edge", bottom=detractors, color=GREY, label="passives (7–8)")
    tops = [a + b for a, b in zip(detractors, passives, strict=True)]
    share_ax.bar(starts, promoters, width=widths, align="edge", bottom=tops, color=GREEN, label="promoters (9–10)")
    share_ax.set_ylim(0, 100)
    share_ax.set_ylabel("share of\nresponses, %")

    volume_ax.bar(starts, [m.responses for m in months], width=widths, align="edge", color="#5b7db1")
    volume_ax.set_ylabel("responses")

    # months without a single response: shaded on every panel, named on the NPS panel
    for first, last in month_gaps(months):
        end = last + timedelta(days=_days(last))
        for ax in (nps_ax, share_ax, volume_ax):
            ax.axvspan(first, end, facecolor="#f4f4f4", hatch="//", edgecolor="#e0e0e0", linewidth=0, zorder=0)
        if (end - first).days > 45:
            label = f"no responses\n{first:%b %Y} – {last:%b %Y}" if first != last else f"no responses\n{first:%b %Y}"
            nps_ax.text(first + (end - first) / 2, -80, label, ha="center", va="bottom", fontsize=8, color="#777")

    locator = mdates.AutoDateLocator(minticks=4, maxticks=14)
    volume_ax.xaxis.set_major_locator(locator)
    volume_ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    if months:
        last = months[-1].month
        volume_ax.set_xlim(months[0].month - timedelta(days=10), last + timedelta(days=_days(last) + 10))

    handles = nps_ax.get_legend_handles_labels()[0] + share_ax.get_legend_handles_labels()[0]
    # below the axes, clear of every bar and point (it used to sit on the detractors' bars)
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=8, frameon=False)
    return fig
