"""`report` draws from a real DuckDB, and its numbers are the tables' numbers."""

import html
import re
from pathlib import Path

from analytics.report import COMMENTS
from sandbox.wootric import generate_account
from tests.conftest import run_cli, sandbox_env
from tests.support.warehouse import read_duckdb


def test_report_writes_png_and_html_whose_figures_match_the_warehouse(workdir: Path, start_sandbox) -> None:
    account = generate_account(seed=41, end_users=150, responses=2500, declines=100, span_days=200)
    server = start_sandbox(account)
    assert run_cli([], workdir, sandbox_env(server)).returncode == 0

    done = run_cli(["report", "--output", str(workdir / "out")], workdir, {})
    assert done.returncode == 0, done.stderr
    png = (workdir / "out" / "nps_report.png").read_bytes()
    page = (workdir / "out" / "nps_report.html").read_text(encoding="utf-8")
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 20_000
    assert "data:image/png;base64," in page and "<script" not in page

    monthly = read_duckdb(workdir / "feedback.duckdb", "wootric", "nps_monthly")
    rows = re.findall(r'<tr data-month="([0-9-]+)">(.*?)</tr>', page)
    assert len(rows) == len(monthly) >= 6
    for row in monthly:
        cells = dict(rows)[f"{row['month']:%Y-%m}"]
        numbers = [int(n) for n in re.findall(r'<td class="n[^"]*">(-?\d+)</td>', cells)]
        assert numbers == [row["responses"], row["promoters"], row["passives"], row["detractors"], row["nps"]]

    detractors = sorted(
        (
            r
            for r in account.truth("responses")
            if r["score"] <= 6 and not r["excluded_from_calculations"] and r["text"]
        ),
        key=lambda r: (r["created_at"], r["id"]),
        reverse=True,
    )
    quoted = re.findall(r"<blockquote>(.*?)</blockquote>", page, flags=re.S)
    assert quoted == [html.escape(r["text"]) for r in detractors[:COMMENTS]]


def test_report_before_any_load_says_so_in_one_line(workdir: Path) -> None:
    done = run_cli(["report"], workdir, {})
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: no NPS views in duckdb dataset 'wootric': run the pipeline first"
    ]


def test_report_without_matplotlib_names_the_extra(workdir: Path) -> None:
    shim = workdir / "shim"
    shim.mkdir()
    (shim / "matplotlib.py").write_text("raise ImportError('not installed')\n")
    done = run_cli(["report"], workdir, {"PYTHONPATH": str(shim)})
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: report needs matplotlib: pip install 'feedback-connectors[report]'"
    ]
