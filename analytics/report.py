"""An NPS trend report from the warehouse: a PNG chart and a self-contained HTML page.

Reads only the analyst views (`nps_monthly`, `feedback`), so the picture shows exactly what an
analyst's SQL would: monthly NPS (all accounts of the dataset together) with promoter/passive/
detractor shares, response volume, and the newest detractor comments under it.
"""

import base64
import html
import io
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, List, Optional, Tuple

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

    def share(self, count: int) -> float:
        return 100.0 * count / self.responses if self.responses else 0.0


@dataclass
class Comment:
    created_at: datetime
    score: int
    text: str
    email: Optional[str]


def read_report_data(sql: Any, dataset: str) -> Tuple[List[Month], List[Comment]]:
    """The monthly series and the newest detractor comments, through a dlt sql client."""
    months = [
        Month(_as_date(m), int(n), int(p), int(pa), int(d), None if nps is None else int(nps))
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
    return months, comments


def render_png(months: List[Month], title: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [m.month.strftime("%Y-%m") for m in months]
    x = list(range(len(months)))
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(11, 7), sharex=True, gridspec_kw={"height_ratios": [3, 1.3]}, constrained_layout=True
    )
    promoters = [m.share(m.promoters) for m in months]
    passives = [m.share(m.passives) for m in months]
    detractors = [m.share(m.detractors) for m in months]
    top.bar(x, detractors, color="#d9534f", label="detractors (0–6) %")
    top.bar(x, passives, bottom=detractors, color="#c8c8c8", label="passives (7–8) %")
    top.bar(
        x,
        promoters,
        bottom=[a + b for a, b in zip(detractors, passives, strict=True)],
        color="#5cb85c",
        label="promoters (9–10) %",
    )
    top.set_ylim(0, 100)
    top.set_ylabel("share of responses, %")
    nps_axis = top.twinx()
    nps_axis.plot(x, [m.nps for m in months], color="#1f3a93", marker="o", linewidth=2.2, label="NPS")
    for i, m in enumerate(months):
        if m.nps is not None:
            nps_axis.annotate(
                str(m.nps), (i, m.nps), textcoords="offset points", xytext=(0, 7), ha="center", fontsize=8
            )
    nps_axis.set_ylim(-100, 100)
    nps_axis.axhline(0, color="#1f3a93", linewidth=0.6, linestyle=":")
    nps_axis.set_ylabel("NPS")
    handles = top.get_legend_handles_labels()[0] + nps_axis.get_legend_handles_labels()[0]
    top.legend(handles, [h.get_label() for h in handles], loc="lower left", fontsize=8, ncol=4)
    top.set_title(title)
    bottom.bar(x, [m.responses for m in months], color="#5b7db1")
    bottom.set_ylabel("responses")
    bottom.set_xticks(x, labels, rotation=45, ha="right", fontsize=8)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return buffer.getvalue()


def render_html(months: List[Month], comments: List[Comment], png: bytes, title: str) -> str:
    rows = "\n".join(
        f'<tr data-month="{m.month:%Y-%m}"><td>{m.month:%Y-%m}</td><td class="n">{m.responses}</td>'
        f'<td class="n">{m.promoters}</td><td class="n">{m.passives}</td><td class="n">{m.detractors}</td>'
        f'<td class="n nps">{"" if m.nps is None else m.nps}</td></tr>'
        for m in months
    )
    items = "\n".join(
        f'<li><span class="score">{c.score}</span> <time>{c.created_at.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC'
        f"</time> {html.escape(c.email or '')}<blockquote>{html.escape(c.text)}</blockquote></li>"
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
blockquote {{ margin: .2rem 0 .8rem 1.5rem; color: #444; }} .score {{ color: #fff; background: #d9534f;
border-radius: 3px; padding: 0 .35rem; font-weight: 600; }} time {{ color: #666; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p>NPS = round(100 × (promoters − detractors) / responses), responses excluded from calculations not counted.
Generated {generated}.</p>
<img alt="Monthly NPS with promoter, passive and detractor shares, and response volume"
 src="data:image/png;base64,{image}">
<h2>By month</h2>
<table><thead><tr><th>month</th><th>responses</th><th>promoters</th><th>passives</th><th>detractors</th><th>NPS</th>
</tr></thead><tbody>
{rows}
</tbody></table>
<h2>Newest detractor comments</h2>
<ol>
{items}
</ol>
</body></html>
"""


def write_report(sql: Any, dataset: str, output: Path, title: str) -> Tuple[Path, Path]:
    months, comments = read_report_data(sql, dataset)
    png = render_png(months, title)
    output.mkdir(parents=True, exist_ok=True)
    png_path, html_path = output / "nps_report.png", output / "nps_report.html"
    png_path.write_bytes(png)
    html_path.write_text(render_html(months, comments, png, title), encoding="utf-8")
    return png_path, html_path


def _as_date(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value
