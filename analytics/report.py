"""The NPS report as one self-contained HTML page (the chart inlined as PNG) that can be mailed, and the PNG."""

import base64
import html
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, List, Optional, Sequence, Tuple

from analytics.chart import render_png
from analytics.error_bars import MAX_MARGIN, MIN_RESPONSES
from analytics.report_data import (
    Comment,
    Month,
    TagNps,
    Theme,
    month_gaps,
    read_report_data,
    read_tags,
    read_themes,
    total,
)


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


def _tag_rows(tags: List[TagNps]) -> str:
    """One row per tag; the untagged responses as a row of their own, named so."""
    out = []
    for t in tags:
        mark = ' class="small"' if t.period.small_sample else ""
        name = "<i>no tag</i>" if t.tag is None else html.escape(t.tag) or "<i>(empty tag)</i>"
        out.append(
            f'<tr{mark}><td>{name}</td><td class="n">{t.period.responses}</td>'
            f'<td class="n">{_number(t.period.share(t.period.detractors), 1, " %")}</td>'
            f'<td class="n nps">{_number(t.period.nps)}</td><td class="n margin">±{_number(t.period.margin, 1)}</td>'
            f'<td class="n">{_number(t.before.nps)}</td><td class="n">{_number(t.recent.nps)}</td>'
            f'<td class="n">{_number(t.change)}</td></tr>'
        )
    return "\n".join(out)


def _comment_text(text: str) -> str:
    """Escaped, with the respondent's line breaks kept as `<br>`."""
    return "<br>\n".join(html.escape(line) for line in text.splitlines())


def render_html(
    months: List[Month],
    comments: List[Comment],
    png: bytes,
    title: str,
    tags: Sequence[TagNps] = (),
    themes: Optional[Sequence[Theme]] = None,
) -> str:
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
tfoot td {{ font-weight: 600; border-top: 2px solid #999; }} tr.quotes td {{ border-bottom: 2px solid #ccc; }}
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
{_tag_section(list(tags))}
{_theme_section(themes)}
<h2>Newest detractor comments</h2>
<ol>
{items}
</ol>
</body></html>
"""


def _tag_section(tags: List[TagNps]) -> str:
    if not tags:
        return ""
    return f"""<h2>NPS by tag</h2>
<p>Every account together. A response with two tags counts under both. The last two columns compare the
last three months of data with the three before: a tag whose NPS fell while it grew is where to read first.</p>
<table class="tags"><thead><tr><th>tag</th><th>responses</th><th>detractors</th><th>NPS</th><th>± (95 %)</th>
<th>NPS, 3 months before</th><th>NPS, last 3 months</th><th>change</th></tr></thead><tbody>
{_tag_rows(tags)}
</tbody></table>"""


def _theme_section(themes: Optional[Sequence[Theme]]) -> str:
    if themes is None:
        return """<h2>Themes among detractors</h2>
<p>No comment themes yet: <code>wootric_pipeline.py themes</code> groups the comments into themes, offline
(it needs <code>pip install 'feedback-connectors[themes]'</code>).</p>"""
    if not themes:
        return "<h2>Themes among detractors</h2>\n<p>No detractor comment is in a theme yet.</p>"
    several = len({t.account for t in themes}) > 1
    rows = []
    for t in themes:
        name = f"{html.escape(t.account)}: {html.escape(t.label)}" if several else html.escape(t.label)
        quotes = "".join(f"<blockquote>{_comment_text(c.text)}</blockquote>" for c in t.quotes)
        rows.append(
            f'<tr><td>{name}</td><td class="n">{t.detractors}</td><td class="n">{t.before}</td>'
            f'<td class="n">{t.recent}</td><td class="n">{t.size}</td><td class="n">{_number(t.nps)}</td></tr>'
            f'<tr class="quotes"><td colspan="6">{quotes}</td></tr>'
        )
    return f"""<h2>Themes among detractors</h2>
<p>The comment themes (<code>themes</code>) holding the most detractor comments, with the detractors'
comments nearest each theme's centre. A theme that grew in the last three months is a reason NPS moved.</p>
<table class="themes"><thead><tr><th>theme (top terms)</th><th>detractors</th><th>3 months before</th>
<th>last 3 months</th><th>comments in theme</th><th>theme NPS</th></tr></thead><tbody>
{chr(10).join(rows)}
</tbody></table>"""


def write_report(sql: Any, dataset: str, output: Path, vendor: str = "Wootric") -> Tuple[Path, Path]:
    """Write nps_report.png and nps_report.html into `output`; returns their paths."""
    months, comments, accounts = read_report_data(sql, dataset)
    last = months[-1] if months else None
    tags, themes = read_tags(sql, dataset, last), read_themes(sql, dataset, last)
    title = report_title(vendor, accounts, months)
    png = render_png(months, title)
    output.mkdir(parents=True, exist_ok=True)
    png_path, html_path = output / "nps_report.png", output / "nps_report.html"
    png_path.write_bytes(png)
    html_path.write_text(render_html(months, comments, png, title, tags, themes), encoding="utf-8")
    return png_path, html_path
