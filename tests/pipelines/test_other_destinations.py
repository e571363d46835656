"""Destinations beyond the warehouses with views: a Parquet lake read through its DuckDB catalog
(pipelines/warehouse/lake.py), and any other dlt destination (SQLite through dlt's sqlalchemy), which
loads the tables and says in one line that the analyst views are not built there."""

import contextlib
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List

import duckdb

from sandbox.wootric import generate_account
from tests.conftest import run_cli, sandbox_env
from tests.pipelines.test_wootric_pipeline import assert_warehouse_exact
from tests.support.summary import loaded
from tests.support.warehouse import TIMESTAMPS, assert_exact, read_duckdb

VIEWS = ("nps_daily", "nps_monthly", "nps_by_segment", "feedback", "nps_rolling", "engagement_monthly", "nps_by_tag")


def _edit(account: Any) -> None:
    """New responses in the second the last run ended on, a decline, edited end users: merges."""
    last = max(r["created_at"] for r in account.truth("responses"))
    account.add_responses(12, at=last)
    account.add_declines(3)
    account.update_end_users([u["id"] for u in account.truth("end_users")[:5]])


def test_the_lake_is_exact_through_its_catalog_with_duckdbs_views_and_report(workdir: Path, start_sandbox) -> None:
    account = generate_account(seed=29, end_users=60, responses=400, declines=40, span_days=60)
    server = start_sandbox(account)
    env = {**sandbox_env(server), "DESTINATION__FILESYSTEM__BUCKET_URL": str(workdir / "lake")}
    args = ["--destination", "filesystem", "--pipeline-name", "lake"]
    catalog = workdir / "feedback_lake.duckdb"
    done = run_cli(args, workdir, env)
    assert done.returncode == 0, done.stderr
    assert f"analyst views: {', '.join(VIEWS)} (DuckDB catalog feedback_lake.duckdb)" in done.stdout
    assert "Falling back to `append`" not in done.stderr  # dlt's warning: the catalog keeps what a merge keeps
    assert_warehouse_exact(account, lambda table: read_duckdb(catalog, "wootric", table))

    _edit(account)
    done = run_cli(args, workdir, env)
    assert done.returncode == 0, done.stderr
    assert loaded(done.stdout) == {**loaded(done.stdout), "responses": 12, "declines": 3, "end_users": 5}
    # the files hold both versions of each edited end user: dlt appends; the catalog keeps the newest
    files = str(workdir / "lake" / "wootric" / "end_users" / "*.parquet")
    assert duckdb.sql(f"SELECT COUNT(*) FROM read_parquet('{files}')").fetchall()[0][0] == 65
    assert_warehouse_exact(account, lambda table: read_duckdb(catalog, "wootric", table))
    for table in ("segments", "survey_templates", "survey_templates__languages", "email_stats_sources"):
        assert len(read_duckdb(catalog, "wootric", table)) == len(_first_run_rows(workdir, table)), table

    # the same account into DuckDB: every view, row for row
    assert run_cli([], workdir, sandbox_env(server)).returncode == 0
    with duckdb.connect(str(workdir / "feedback.duckdb"), read_only=True) as warehouse:
        with duckdb.connect(str(catalog), read_only=True) as lake:
            for view in VIEWS:
                query = f"SELECT * FROM wootric.{view}"
                assert sorted(lake.execute(query).fetchall(), key=repr) == sorted(
                    warehouse.execute(query).fetchall(), key=repr
                ), view

    report = run_cli(["report", "--destination", "filesystem", "--output", str(workdir / "out")], workdir, env)
    assert report.returncode == 0, report.stderr
    assert (workdir / "out" / "nps_report.png").stat().st_size > 0
    page = (workdir / "out" / "nps_report.html").read_text()
    month = read_duckdb(catalog, "wootric", "nps_monthly")[0]
    assert str(month["nps"]) in page


def _first_run_rows(workdir: Path, table: str) -> List[Dict[str, Any]]:
    """A reference list's rows as the files of the first load hold them (later loads repeat the list)."""
    folder = workdir / "lake" / "wootric" / table
    first = sorted(p.name.split(".")[0] + "." + p.name.split(".")[1] for p in folder.glob("*.parquet"))[0]
    return duckdb.sql(f"SELECT * FROM read_parquet('{folder}/{first}.*.parquet')").fetchall()


def test_another_dlt_destination_loads_the_tables_and_says_the_views_are_not_built(
    workdir: Path, start_sandbox
) -> None:
    account = generate_account(seed=31, end_users=30, responses=150, declines=20, span_days=40)
    server = start_sandbox(account)
    # SQLite takes one writer at a time: one load worker. dlt keeps each dataset in a file of its own.
    env = {**sandbox_env(server), "DESTINATION__SQLALCHEMY__CREDENTIALS": f"sqlite:///{workdir / 'f.sqlite'}"}
    env["LOAD__WORKERS"] = "1"

    def read(table: str) -> List[Dict[str, Any]]:
        with contextlib.closing(sqlite3.connect(workdir / "f__wootric.sqlite")) as con:
            cur = con.execute(f'SELECT * FROM "{table}"')
            names = [d[0] for d in cur.description]
            rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        for row in rows:  # SQLite keeps a timestamp as UTC text
            for field in TIMESTAMPS & row.keys():
                if row[field] is not None:
                    row[field] = datetime.fromisoformat(row[field]).replace(tzinfo=timezone.utc)
        return rows

    for run in range(2):
        done = run_cli(["--destination", "sqlalchemy"], workdir, env)
        assert done.returncode == 0, done.stderr
        notes = [line for line in done.stdout.splitlines() if line.startswith("analyst views")]
        assert notes == [
            "analyst views: not built for destination 'sqlalchemy' (they are for duckdb, postgres,"
            " bigquery, snowflake and a local filesystem lake); the tables are loaded"
        ], done.stdout
        for table in ("end_users", "responses", "declines"):
            assert_exact(table, account.truth(table), read(table))
        if run == 0:
            _edit(account)

    for command in (["status"], ["report"]):  # verify reads through the same guard as status
        done = run_cli([*command, "--destination", "sqlalchemy"], workdir, env)
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and "sqlalchemy" in errors[0], done.stderr
