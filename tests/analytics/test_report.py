"""`report` draws from a real DuckDB, its numbers are the tables' numbers, and the chart reads honestly."""

import html
import math
import re
import tomllib
from datetime import date, datetime, timezone
from fractions import Fraction
from pathlib import Path

import duckdb

from analytics.chart import build_figure
from analytics.report import render_html, report_title
from analytics.report_data import COMMENTS, THEMES_SHOWN, Comment, Month, read_themes
from sandbox.wootric import generate_account
from tests.conftest import ROOT, run_cli, sandbox_env
from tests.support.browser import Browser
from tests.support.warehouse import read_duckdb

#: a small month two years after the generated span (which starts 2023-01-01, 200 days)
LATE = datetime(2025, 3, 12, 9, tzinfo=timezone.utc)
ROW = re.compile(r'<tr data-month="([0-9-]+)"(?: class="small")?>(.*?)</tr>')
NUMBER = re.compile(r'<td class="n[^"]*">±?(-?\d+(?:\.\d+)?)(?: %)?</td>')


def half_away(value: Fraction) -> int:
    return int(math.floor(abs(value) + Fraction(1, 2))) * (1 if value >= 0 else -1)


def test_report_writes_png_and_html_whose_figures_match_the_warehouse(workdir: Path, start_sandbox) -> None:
    account = generate_account(seed=41, end_users=150, responses=2500, declines=100, span_days=200)
    account.add_responses(9, at=LATE)
    server = start_sandbox(account)
    assert run_cli([], workdir, sandbox_env(server)).returncode == 0
    themed = run_cli(["themes"], workdir, {})
    assert themed.returncode == 0, themed.stderr

    done = run_cli(["report", "--output", str(workdir / "out")], workdir, {})
    assert done.returncode == 0, done.stderr
    png = (workdir / "out" / "nps_report.png").read_bytes()
    page = (workdir / "out" / "nps_report.html").read_text(encoding="utf-8")
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 20_000
    assert "data:image/png;base64," in page and "<script" not in page
    # the title names the account and the period, not the dataset twice
    assert "<h1>Wootric NPS · account default · Jan 2023 – Mar 2025</h1>" in page

    monthly = read_duckdb(workdir / "feedback.duckdb", "wootric", "nps_monthly")
    rows = dict(ROW.findall(page))
    assert len(rows) == len(monthly) >= 6
    for row in monthly:
        numbers = [float(n) for n in NUMBER.findall(rows[f"{row['month']:%Y-%m}"])]
        want = [row["responses"], row["promoters"], row["passives"], row["detractors"], row["nps"]]
        assert numbers[:5] == want
        assert numbers[5] == round(row["nps_margin"], 1)
    assert f'<tr data-month="{LATE:%Y-%m}" class="small">' in page
    assert '<tr class="gap"><td colspan="10">no responses 2023-08 to 2025-02</td></tr>' in page

    # the totals row: sums of the landed counted responses, and their NPS recomputed here
    counted = [r for r in account.truth("responses") if not r["excluded_from_calculations"]]
    n, p, d = len(counted), sum(r["score"] >= 9 for r in counted), sum(r["score"] <= 6 for r in counted)
    totals = re.search(r'<tr class="total"><td>total</td>(.*?)</tr>', page).group(1)
    numbers = [float(x) for x in NUMBER.findall(totals)]
    assert numbers[:5] == [n, p, n - p - d, d, half_away(Fraction(100 * (p - d), n))]
    share_p, share_d = p / n, d / n
    assert numbers[5] == round(196 * math.sqrt((share_p + share_d - (share_p - share_d) ** 2) / n), 1)

    detractors = sorted(
        (
            r
            for r in account.truth("responses")
            if r["score"] <= 6 and not r["excluded_from_calculations"] and r["text"]
        ),
        key=lambda r: (r["created_at"], r["id"]),
        reverse=True,
    )
    newest = page.split("<h2>Newest detractor comments</h2>", 1)[1]
    quoted = re.findall(r"<blockquote>(.*?)</blockquote>", newest, flags=re.S)
    want_quotes = ["<br>\n".join(html.escape(line) for line in r["text"].split("\n")) for r in detractors[:COMMENTS]]
    assert quoted == want_quotes
    by_tag: dict = {}
    for row in read_duckdb(workdir / "feedback.duckdb", "wootric", "nps_by_tag"):
        by_tag[row["tag"]] = by_tag.get(row["tag"], 0) + row["responses"]
    # themes among detractors: each theme's detractor comments, from the sandbox's truth and the warehouse's
    # assignment of responses to themes
    theme_of = {
        int(r["response_id"]): r["theme_id"]
        for r in read_duckdb(workdir / "feedback.duckdb", "wootric", "response_themes")
    }
    labels = {r["theme_id"]: r["label"] for r in read_duckdb(workdir / "feedback.duckdb", "wootric", "comment_themes")}
    detractors_in: dict = {}
    for r in account.truth("responses"):
        if r["score"] <= 6 and not r["excluded_from_calculations"] and (r["text"] or "").strip():
            detractors_in[labels[theme_of[r["id"]]]] = detractors_in.get(labels[theme_of[r["id"]]], 0) + 1
    top = sorted(detractors_in.items(), key=lambda item: (-item[1], item[0]))[:THEMES_SHOWN]
    assert_renders_offline(workdir / "out" / "nps_report.html", monthly, by_tag, top)


def assert_renders_offline(page: Path, monthly: list, by_tag: dict, themes: list) -> None:
    """In headless Chromium: nothing requested off the machine, every image drawn, no console error, and the
    table a reader sees adds up to the warehouse's `nps_monthly`."""
    with Browser() as browser:
        browser.open(page)
        images = browser.evaluate("Array.from(document.images, i => [i.complete, i.naturalWidth])")
        months = browser.evaluate("document.querySelectorAll('tbody tr[data-month]').length")
        total = browser.evaluate("Array.from(document.querySelectorAll('tr.total td'), td => td.innerText)")
        rows = "document.querySelectorAll('table.tags tbody tr')"
        tags = browser.evaluate(f"Array.from({rows}, tr => [tr.cells[0].innerText, tr.cells[1].innerText])")
        rows = "document.querySelectorAll('table.themes tbody tr:not(.quotes)')"
        shown = browser.evaluate(f"Array.from({rows}, tr => [tr.cells[0].innerText, tr.cells[1].innerText])")
        requests, errors = browser.requests, browser.errors
    assert requests == [page.resolve().as_uri()] + [u for u in requests[1:] if u.startswith("data:")], requests
    assert errors == []
    assert images and all(complete and width > 0 for complete, width in images), images
    assert months == len(monthly)
    sums = [sum(row[k] for row in monthly) for k in ("responses", "promoters", "passives", "detractors")]
    assert [int(cell) for cell in total[1:5]] == sums
    # NPS by tag: every tag the view has, untagged responses named as such, most answered first
    assert {name: int(n) for name, n in tags} == {"no tag" if t is None else t: n for t, n in by_tag.items()}
    assert [int(n) for _, n in tags] == sorted(by_tag.values(), reverse=True)
    # the themes holding the most detractor comments, with their counts
    assert [(label, int(n)) for label, n in shown] == themes


def test_comments_keep_their_line_breaks() -> None:
    comment = Comment(datetime(2024, 1, 2, tzinfo=timezone.utc), 3, "first line\nsecond <line>\r\nthird", None)
    page = render_html([], [comment], b"", "t")
    assert "<blockquote>first line<br>\nsecond &lt;line&gt;<br>\nthird</blockquote>" in page


def test_title_names_the_accounts_and_the_period() -> None:
    months = [Month(date(2023, 12, 1), 40, 20, 10, 10, 25), Month(date(2026, 11, 1), 40, 20, 10, 10, 25)]
    assert report_title("Wootric", ["acme"], months) == "Wootric NPS · account acme · Dec 2023 – Nov 2026"
    assert report_title("Wootric", ["acme", "beta"], months[:1]) == "Wootric NPS · accounts acme, beta · Dec 2023"
    assert report_title("Wootric", list("abcd"), months).startswith("Wootric NPS · 4 accounts ·")
    assert report_title("Wootric", [], []) == "Wootric NPS · no responses yet"


def test_chart_has_a_time_axis_an_nps_panel_of_its_own_a_band_and_a_legend_clear_of_the_data() -> None:
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    months = [
        Month(date(2023, 11, 1), 300, 150, 90, 60, 30),
        Month(date(2023, 12, 1), 320, 150, 90, 80, 22),
        Month(date(2026, 11, 1), 12, 4, 4, 4, 0),
    ]
    fig = build_figure(months, "t")
    try:
        nps_ax, share_ax, volume_ax = fig.axes
        # a real time axis: the three-year gap is three years wide, not one category step
        december, november = (mdates.date2num(date(y, m, 1)) for y, m in ((2023, 12), (2026, 11)))
        lo, hi = volume_ax.get_xlim()
        assert lo < december < november < hi and (november - december) / (hi - lo) > 0.8
        # NPS has its own axis: its zero line is at NPS 0, and nothing is drawn across the share axis
        assert nps_ax.get_ylim() == (-100, 100) and share_ax.get_ylim() == (0, 100)
        assert any(list(line.get_ydata()) == [0, 0] for line in nps_ax.get_lines())
        assert not share_ax.get_lines()
        # the line breaks at the gap (a NaN between December 2023 and November 2026)
        nps_line = next(line for line in nps_ax.get_lines() if line.get_label() == "NPS")
        assert any(math.isnan(y) for y in nps_line.get_ydata())
        # the 95 % band is drawn, from the months' own intervals
        assert nps_ax.collections, "no confidence band"
        # one legend, outside every panel
        fig.canvas.draw()
        (legend,) = fig.legends
        box = legend.get_window_extent()
        assert not any(box.overlaps(ax.get_window_extent()) for ax in fig.axes)
    finally:
        plt.close(fig)


def test_matplotlib_is_a_core_dependency() -> None:
    """`report` works right after `pip install -e .`, as the README and the demo's hint say."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert any(re.match(r"matplotlib\b", dep) for dep in project["dependencies"])


def test_report_before_any_load_says_so_in_one_line(workdir: Path) -> None:
    done = run_cli(["report"], workdir, {})
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: no NPS views in duckdb dataset 'wootric': run the pipeline first"
    ]


class DuckSql:
    """The one method of dlt's sql client that the report's readers call, on a plain DuckDB connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def execute_sql(self, query: str) -> list:
        return self.con.execute(query).fetchall()


def test_themes_among_detractors_rank_count_by_period_and_quote_the_nearest() -> None:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA ds")
    con.execute(
        "CREATE TABLE ds.feedback (account VARCHAR, response_id BIGINT, created_at TIMESTAMPTZ, score BIGINT,"
        " text VARCHAR, email VARCHAR, category VARCHAR, excluded_from_calculations BOOLEAN)"
    )
    con.execute(
        "CREATE TABLE ds.comment_themes (account VARCHAR, theme_id BIGINT, label VARCHAR, size BIGINT, nps BIGINT)"
    )
    con.execute(
        "CREATE TABLE ds.response_themes (account VARCHAR, response_id VARCHAR, theme_id BIGINT, similarity DOUBLE)"
    )
    con.execute(
        "INSERT INTO ds.comment_themes VALUES ('a', 1, 'slow · delivery', 40, -20), ('a', 2, 'great · team', 60, 70)"
    )
    rows = [
        # id, month, score, text, theme, similarity
        (1, "2025-06-03", 2, "late again", 1, 0.9),
        (2, "2025-05-20", 3, "package lost", 1, 0.7),
        (3, "2025-02-01", 0, "never came", 1, 0.95),
        (4, "2025-06-01", 10, "love it", 2, 0.9),  # a promoter: not a detractor comment
        (5, "2025-06-02", 5, "team was rude", 2, 0.5),
        (6, "2025-06-02", 4, "", 2, 0.99),  # no comment text: not quoted, not counted
    ]
    for rid, day, score, text, theme, sim in rows:
        category = "detractor" if score <= 6 else "promoter"
        con.execute(
            "INSERT INTO ds.feedback VALUES ('a', ?, CAST(? AS TIMESTAMPTZ), ?, ?, NULL, ?, FALSE)",
            [rid, f"{day} 12:00:00+00", score, text, category],
        )
        con.execute("INSERT INTO ds.response_themes VALUES ('a', ?, ?, ?)", [str(rid), theme, sim])
    last = Month(date(2025, 6, 1), 10, 5, 3, 2, 30)
    themes = read_themes(DuckSql(con), "ds", last)
    assert [(t.label, t.detractors, t.before, t.recent) for t in themes] == [
        ("slow · delivery", 3, 1, 2),
        ("great · team", 1, 0, 1),
    ]
    assert [c.text for c in themes[0].quotes] == ["never came", "late again", "package lost"]
    page = render_html([last], [], b"", "t", [], themes)
    assert "<td>slow · delivery</td>" in page and "<blockquote>never came</blockquote>" in page
    # before `themes` ever ran the report says how to get them
    assert "pip install 'feedback-connectors[themes]'" in render_html([last], [], b"", "t", [], None)
