"""The NPS trend report from the warehouse: a PNG chart and a self-contained HTML page.

It reads only the analyst views (`nps_monthly`, `engagement_monthly`, `feedback`), so it shows what
an analyst's SQL would. Months are summed over every account of the dataset; an error bar cannot be
summed, so it is recomputed from the summed counts with the views' own formula. The chart's three
panels share one real date axis (no twin y-axis), so a year without answers shows as a gap.
"""

import base64
import html
import io
import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from dlt.destinations.exceptions import DatabaseUndefinedRelation

from analytics.error_bars import MAX_MARGIN, MIN_RESPONSES, nps_error_bar
from analytics.wootric_nps import nps_expression

COMMENTS = 12


@dataclass
class Month:
    month: date
    responses: int
    promoters: int
    passives: int
    detractors: int
    nps: Optional[int]
    #: from engagement_monthly, when the declines were loaded
    declines: Optional[int] = None
    commented: Optional[int] = None
    #: derived from the counts
    margin: Optional[float] = field(init=False, default=None)
    ci_low: Optional[float] = field(init=False, default=None)
    ci_high: Optional[float] = field(init=False, default=None)
    small_sample: bool = field(init=False, default=True)

    def __post_init__(self) -> None:
        bar = nps_error_bar(self.promoters, self.detractors, self.responses)
        self.margin, self.ci_low, self.ci_high = bar["nps_margin"], bar["nps_ci_low"], bar["nps_ci_high"]
        self.small_sample = bool(bar["small_sample"])

    @property
    def index(self) -> int:
        """Months since year 0: neighbours differ by 1, a gap by more."""
        return self.month.year * 12 + self.month.month - 1

    def share(self, count: int) -> float:
        return 100.0 * count / self.responses if self.responses else 0.0

    @property
    def response_rate(self) -> Optional[float]:
        asked = self.responses + (self.declines or 0)
        return None if self.declines is None or not asked else 100.0 * self.responses / asked

    @property
    def comment_rate(self) -> Optional[float]:
        return None if self.commented is None or not self.responses else 100.0 * self.commented / self.responses


@dataclass
class Comment:
    created_at: datetime
    score: int
    text: str
    email: Optional[str]


def wootric_nps(promoters: int, detractors: int, responses: int) -> Optional[int]:
    """NPS rounded half away from zero on integers, as the views (and Wootric) round it."""
    if not responses:
        return None
    delta = promoters - detractors
    magnitude = (200 * abs(delta) + responses) // (2 * responses)
    return magnitude if delta >= 0 else -magnitude


def total(months: Sequence[Month]) -> Month:
    """The whole period as one row: sums, and the NPS and error bar of those sums."""
    responses, promoters, detractors = (
        sum(getattr(m, key) for m in months) for key in ("responses", "promoters", "detractors")
    )
    have_rates = bool(months) and all(m.declines is not None for m in months)
    return Month(
        month=months[0].month if months else date.today(),
        responses=responses,
        promoters=promoters,
        passives=sum(m.passives for m in months),
        detractors=detractors,
        nps=wootric_nps(promoters, detractors, responses),
        declines=sum(m.declines or 0 for m in months) if have_rates else None,
        commented=sum(m.commented or 0 for m in months) if have_rates else None,
    )


def month_gaps(months: Sequence[Month]) -> List[Tuple[date, date]]:
    """(first, last) month of every run of months without responses between two months with some."""
    gaps = []
    for before, after in zip(months, months[1:], strict=False):
        if after.index - before.index > 1:
            first, last = before.index + 1, after.index - 1
            gaps.append((date(first // 12, first % 12 + 1, 1), date(last // 12, last % 12 + 1, 1)))
    return gaps


def read_report_data(sql: Any, dataset: str) -> Tuple[List[Month], List[Comment], List[str]]:
    """The monthly series, the newest detractor comments and the accounts, through a dlt sql client."""
    engagement = _engagement(sql, dataset)
    months = [
        Month(
            _as_date(m),
            int(n),
            int(p),
            int(pa),
            int(d),
            None if nps is None else int(nps),
            **engagement.get(_as_date(m), {}),
        )
        for m, n, p, pa, d, nps in sql.execute_sql(
            # every account of the dataset together, NPS rounded as the views round it
            f"SELECT month, SUM(responses), SUM(promoters), SUM(passives), SUM(detractors),"
            f" {nps_expression('SUM(promoters)', 'SUM(detractors)', 'SUM(responses)')}"
            f" FROM {dataset}.nps_monthly GROUP BY month ORDER BY month"
        )
    ]
    comments = [
        Comment(created, int(score), text, email)
        for created, score, text, email in sql.execute_sql(
            f"SELECT created_at, score, text, email FROM {dataset}.feedback"
            " WHERE category = 'detractor' AND COALESCE(excluded_from_calculations, FALSE) = FALSE"
            " AND score IS NOT NULL AND text IS NOT NULL AND text <> ''"
            f" ORDER BY created_at DESC, response_id DESC LIMIT {COMMENTS}"
        )
    ]
    accounts = [row[0] for row in sql.execute_sql(f"SELECT DISTINCT account FROM {dataset}.nps_monthly ORDER BY 1")]
    return months, comments, accounts


def _engagement(sql: Any, dataset: str) -> Dict[date, Dict[str, int]]:
    """Declines and commented responses per month; empty when the declines were not loaded (no view)."""
    try:
        rows = sql.execute_sql(
            f"SELECT month, SUM(declines), SUM(commented) FROM {dataset}.engagement_monthly GROUP BY month"
        )
    except DatabaseUndefinedRelation:
        return {}
    return {_as_date(m): {"declines": int(k), "commented": int(c)} for m, k, c in rows}


def _as_date(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value


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


def report_title(vendor: str, accounts: Sequence[str], months: Sequence[Month]) -> str:
    """Who and when, e.g. "Wootric NPS · account acme · Jun 2023 – Dec 2025"."""
    if len(accounts) == 1:
        who = f"account {accounts[0]}"
    elif len(accounts) <= 3:
        who = "accounts " + ", ".join(accounts)
    else:
        who = f"{len(accounts)} accounts"
    if not months:
        return f"{vendor} NPS · no responses yet"
    first, last = months[0].month, months[-1].month
    period = f"{first:%b %Y}" if first == last else f"{first:%b %Y} – {last:%b %Y}"
    return f"{vendor} NPS · {who} · {period}"


def _number(value: Optional[float], digits: int = 0, suffix: str = "") -> str:
    return "–" if value is None else f"{value:.{digits}f}{suffix}"


def _cells(m: Month) -> str:
    interval = "–" if m.ci_low is None else f"{m.ci_low:.0f} … {m.ci_high:.0f}"
    return (
        f'<td class="n">{m.responses}</td><td class="n">{m.promoters}</td><td class="n">{m.passives}</td>'
        f'<td class="n">{m.detractors}</td><td class="n nps">{_number(m.nps)}</td>'
        f'<td class="n margin">±{_number(m.margin, 1)}</td><td class="n ci">{interval}</td>'
        f'<td class="n rate">{_number(m.response_rate, 1, " %")}</td>'
        f'<td class="n rate">{_number(m.comment_rate, 1, " %")}</td>'
    )


def _rows(months: List[Month]) -> str:
    """One row per month, and a row naming every run of months without responses."""
    gaps = iter(month_gaps(months))
    out = []
    for i, m in enumerate(months):
        mark = ' class="small"' if m.small_sample else ""
        out.append(f'<tr data-month="{m.month:%Y-%m}"{mark}><td>{m.month:%Y-%m}</td>{_cells(m)}</tr>')
        if i + 1 < len(months) and months[i + 1].index - m.index > 1:
            first, last = next(gaps)
            span = f"{first:%Y-%m}" if last == first else f"{first:%Y-%m} to {last:%Y-%m}"
            out.append(f'<tr class="gap"><td colspan="10">no responses {span}</td></tr>')
    return "\n".join(out)


def _comment_text(text: str) -> str:
    """Escaped, with the respondent's line breaks kept as `<br>`."""
    return "<br>\n".join(html.escape(line) for line in text.splitlines())


def render_html(months: List[Month], comments: List[Comment], png: bytes, title: str) -> str:
    whole = total(months)
    items = "\n".join(
        f'<li><span class="score">{c.score}</span> <time>{c.created_at.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC'
        f"</time> {html.escape(c.email or '')}<blockquote>{_comment_text(c.text)}</blockquote></li>"
        for c in comments
    )
    image = base64.b64encode(png).decode()
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 1000px; color: #222; }}
table {{ border-collapse: collapse; margin: 1rem 0; }}
td, th {{ padding: .25rem .6rem; border-bottom: 1px solid #ddd; }}
td.n {{ text-align: right; font-variant-numeric: tabular-nums; }} img {{ max-width: 100%; }}
tr.small td {{ color: #888; font-style: italic; }} tr.gap td {{ color: #888; text-align: center; background: #f6f6f6; }}
tfoot td {{ font-weight: 600; border-top: 2px solid #999; }}
blockquote {{ margin: .2rem 0 .8rem 1.5rem; color: #444; }} .score {{ color: #fff; background: #d9534f;
border-radius: 3px; padding: 0 .35rem; font-weight: 600; }} time {{ color: #666; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p>NPS = round(100 × (promoters − detractors) / responses), responses excluded from calculations not counted.
The band and the ± column are the 95 % margin of error, 1.96 · 100 · √((P + D − (P − D)²) / n).
Months in grey italics are small samples (fewer than {MIN_RESPONSES} responses, or a margin over
{MAX_MARGIN["nps"]:.0f} points): their NPS moves that much by chance alone. Generated {generated}.</p>
<img alt="Monthly NPS with its 95 % confidence band, promoter, passive and detractor shares, and response volume"
 src="data:image/png;base64,{image}">
<h2>By month</h2>
<table><thead><tr><th>month</th><th>responses</th><th>promoters</th><th>passives</th><th>detractors</th><th>NPS</th>
<th>± (95 %)</th><th>95 % interval</th><th>response rate</th><th>comment rate</th></tr></thead><tbody>
{_rows(months)}
</tbody><tfoot>
<tr class="total"><td>total</td>{_cells(whole)}</tr>
</tfoot></table>
<h2>Newest detractor comments</h2>
<ol>
{items}
</ol>
</body></html>
"""


def write_report(sql: Any, dataset: str, output: Path, vendor: str = "Wootric") -> Tuple[Path, Path]:
    """Write nps_report.png and nps_report.html into `output`; returns their paths."""
    months, comments, accounts = read_report_data(sql, dataset)
    title = report_title(vendor, accounts, months)
    png = render_png(months, title)
    output.mkdir(parents=True, exist_ok=True)
    png_path, html_path = output / "nps_report.png", output / "nps_report.html"
    png_path.write_bytes(png)
    html_path.write_text(render_html(months, comments, png, title), encoding="utf-8")
    return png_path, html_path
