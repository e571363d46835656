"""Snowflake through fakesnow (tests/support/snowflake.py): the CLI loads exactly through dlt's stage, PUT
and COPY INTO, merges an incremental run, the analyst views run in Snowflake SQL with DuckDB's figures,
and `report` reads them."""

import datetime
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any, List

import duckdb

from sandbox.woku import generate_company
from sandbox.wootric import generate_account
from tests.analytics.test_nps_by_tag import COLUMNS as BY_TAG
from tests.analytics.test_nps_by_tag import assert_nps_by_tag
from tests.analytics.test_wootric_nps import api_summary
from tests.conftest import run_cli, sandbox_env, woku_env
from tests.pipelines.test_woku_pipeline import assert_exact as assert_woku_exact
from tests.pipelines.test_wootric_pipeline import assert_warehouse_exact
from tests.support.snowflake import fakesnow_server
from tests.support.summary import loaded

VIEWS = (
    "nps_daily",
    "nps_monthly",
    "nps_by_segment",
    "feedback",
    "nps_rolling",
    "engagement_monthly",
    "nps_by_tag",
)


def _plain(value: Any) -> Any:
    """fakesnow returns SUMs as floats or decimals and DATE_TRUNC of a DATE as a timestamp; the values
    are what is compared."""
    if isinstance(value, datetime.datetime) and value.time() == datetime.time(0) and value.tzinfo is None:
        return value.date()
    if isinstance(value, (float, Decimal)) and value == int(value):
        return int(value)
    if isinstance(value, float):
        return round(value, 9)
    return value


def _rows(rows: List[tuple]) -> List[tuple]:
    return sorted((tuple(_plain(v) for v in row) for row in rows), key=repr)


def test_snowflake_load_is_exact_and_the_views_match_duckdb(workdir: Path, start_sandbox) -> None:
    account = generate_account(seed=23, end_users=60, responses=400, declines=40, span_days=60)
    server = start_sandbox(account)
    env = sandbox_env(server)
    dataset = f"sf_{uuid.uuid4().hex[:8]}"  # fakesnow's databases outlive a server in this process
    args = ["--destination", "snowflake", "--dataset-name", dataset, "--pipeline-name", dataset]
    with fakesnow_server() as snowflake:
        env.update(snowflake.env)
        done = run_cli(args, workdir, env, timeout=240)
        assert done.returncode == 0, done.stderr
        assert loaded(done.stdout)["responses"] == 400
        assert f"analyst views: {', '.join(VIEWS)}" in done.stdout
        assert_warehouse_exact(account, lambda table: snowflake.read(dataset, table))

        # an incremental run: new responses in the second the last one ended on, edited end users (merge)
        last = max(r["created_at"] for r in account.truth("responses"))
        account.add_responses(12, at=last)
        account.add_declines(3)
        account.update_end_users([u["id"] for u in account.truth("end_users")[:5]])
        done = run_cli(args, workdir, env, timeout=240)
        assert done.returncode == 0, done.stderr
        assert loaded(done.stdout) == {"responses": 12, "declines": 3, "end_users": 5}, done.stdout
        assert_warehouse_exact(account, lambda table: snowflake.read(dataset, table))

        token = server.issue_token()
        months = snowflake.query(f"SELECT month, responses, nps FROM {dataset}.nps_monthly")
        assert len(months) >= 2
        for month, n, nps in months:
            first = _plain(month)
            nxt = (first + datetime.timedelta(days=32)).replace(day=1)
            api = api_summary(server, token, first, nxt - datetime.timedelta(days=1))
            assert (n, nps) == (api["responses"], api["nps"]), first

        rows = snowflake.query(f"SELECT {', '.join(BY_TAG)} FROM {dataset}.nps_by_tag")
        assert_nps_by_tag(
            [dict(zip(BY_TAG, map(_plain, row), strict=True)) for row in rows], account.truth("responses")
        )

        report = run_cli(["report", *args, "--output", str(workdir / "out")], workdir, env, timeout=240)
        assert report.returncode == 0, report.stderr
        assert (workdir / "out" / "nps_report.png").stat().st_size > 0

        # the same account into DuckDB: every view, row for row
        done = run_cli([], workdir, sandbox_env(server))
        assert done.returncode == 0, done.stderr
        with duckdb.connect(str(workdir / "feedback.duckdb"), read_only=True) as con:
            for view in VIEWS:
                columns = [c[0] for c in con.execute(f"DESCRIBE wootric.{view}").fetchall()]
                listed = ", ".join(c for c in columns if c not in ("tags", "created_at"))  # types differ
                want = _rows(con.execute(f"SELECT {listed} FROM wootric.{view}").fetchall())
                got = _rows(snowflake.query(f"SELECT {listed} FROM {dataset}.{view}"))
                assert got == want, view


def test_woku_loads_exactly_into_snowflake_with_duckdbs_monthly_views(workdir: Path, start_woku) -> None:
    company = generate_company(seed=53, nps_responses=300, reviews=100, form_responses=60)
    server = start_woku(company)
    dataset = f"sf_{uuid.uuid4().hex[:8]}"
    args = ["--destination", "snowflake", "--dataset-name", dataset, "--pipeline-name", dataset]
    with fakesnow_server() as snowflake:
        done = run_cli(args, workdir, {**woku_env(server), **snowflake.env}, timeout=240, script="woku_pipeline.py")
        assert done.returncode == 0, done.stderr
        assert "analyst views: woku_nps_monthly, woku_csat_monthly, woku_ces_monthly" in done.stdout
        assert_woku_exact(company, lambda table: snowflake.read(dataset, table))

        assert run_cli([], workdir, woku_env(server), script="woku_pipeline.py").returncode == 0
        with duckdb.connect(str(workdir / "feedback.duckdb"), read_only=True) as con:
            for view in ("woku_nps_monthly", "woku_csat_monthly", "woku_ces_monthly"):
                want = _rows(con.execute(f"SELECT * FROM woku.{view}").fetchall())
                assert _rows(snowflake.query(f"SELECT * FROM {dataset}.{view}")) == want, view
