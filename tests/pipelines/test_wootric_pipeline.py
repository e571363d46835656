"""End to end: the CLI over loopback HTTP against the sandbox, into real DuckDB and PostgreSQL files,
checked record by record against the sandbox's ground truth."""

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from sandbox.wootric import generate_account
from tests.conftest import only_on, run_cli, sandbox_env, start_cli
from tests.support.hold import HeldCall, api_request
from tests.support.summary import loaded
from tests.support.warehouse import (
    PG_DSN,
    assert_exact,
    drop_postgres_dataset,
    json_value,
    read_postgres,
)

TABLES = ("end_users", "responses", "declines")
DB = "feedback.duckdb"


def crowded_account(seed: int = 11):
    """Bursts of equal timestamps that straddle page 30 in every stream, excluded responses, mixed offsets."""
    return generate_account(
        seed=seed,
        end_users=400,
        responses=4200,
        declines=1800,
        bursts=((130, "responses"), (75, "end_users"), (120, "declines")),
    )


def stream_requests(stats: dict) -> dict:
    """List requests per incremental stream (the reference lists cost one request each on top)."""
    return {t: stats["by_path"].get(f"/v1/{t}", 0) for t in TABLES}


def assert_warehouse_exact(account, read) -> None:
    for table in TABLES:
        assert_exact(table, account.truth(table), read(table))
    responses = {row["id"]: row for row in read("responses")}
    for rec in account.truth("responses"):
        row = responses[rec["id"]]
        assert json_value(row["tags"]) == rec["tags"], f"tags of response {rec['id']}"
        assert json_value(row["end_user__properties"]) == rec["end_user"]["properties"]
        assert row["other_fields"] is None
    users = {row["id"]: row for row in read("end_users")}
    for rec in account.truth("end_users"):
        assert json_value(users[rec["id"]]["properties"]) == rec["properties"], f"properties of end user {rec['id']}"


def test_backfill_then_incremental_is_exact(workdir: Path, warehouse, start_sandbox) -> None:
    account = crowded_account()
    assert sum(r["excluded_from_calculations"] for r in account.truth("responses")) > 100
    server = start_sandbox(account, rate_limit=100, rate_window=1.0)
    env = sandbox_env(server)

    done = run_cli(warehouse.args, workdir, env)
    assert done.returncode == 0, done.stderr
    assert loaded(done.stdout) == {"end_users": 400, "responses": 4200, "declines": 1800}
    stats = server.stats()
    records = sum(account.count(t) for t in TABLES)
    per_1000 = sum(stream_requests(stats).values()) * 1000 / records
    print(
        f"backfill: {records} records, {stats['requests']} API requests ({per_1000:.1f}/1000), "
        f"{stats['token_requests']} token request(s), {stats['rate_limited']} x 429"
    )
    assert per_1000 <= 22  # 50 a page, minus the re-read last second of each page and three crowded seconds
    assert stats["token_requests"] == 1
    assert stats["rate_limited"] == 0, "the pacer should spend the budget without provoking 429s"
    assert_warehouse_exact(account, warehouse.read)

    # new records in the very second of the last loaded one, and edited end users
    last = max(r["created_at"] for r in account.truth("responses"))
    same_second = account.add_responses(30, at=last)
    account.add_responses(25)
    account.add_declines(7)
    # an end user edited within the very second the last run ended on is still picked up
    users = sorted(account.truth("end_users"), key=lambda u: (u["updated_at"], u["id"]))
    newest = users[-1]
    account.update_end_users([newest["id"]], at=newest["updated_at"])
    account.update_end_users([u["id"] for u in users[:15]])
    server.reset_stats()
    done = run_cli(warehouse.args, workdir, env)
    assert done.returncode == 0, done.stderr
    assert loaded(done.stdout) == {"responses": 55, "declines": 7, "end_users": 16}, done.stdout
    landed_same_second = [r for r in warehouse.read("responses") if r["id"] in {n["id"] for n in same_second}]
    assert len(landed_same_second) == 30, "responses in the second the last run ended on were skipped"
    assert_warehouse_exact(account, warehouse.read)

    server.reset_stats()
    done = run_cli(warehouse.args, workdir, env)
    assert done.returncode == 0, done.stderr
    assert loaded(done.stdout) == {}, done.stdout
    stats = server.stats()
    print(f"no-change run: {stream_requests(stats)} list requests, {stats['token_requests']} token request(s)")
    assert all(n <= 2 for n in stream_requests(stats).values())
    assert_warehouse_exact(account, warehouse.read)


@only_on("duckdb")
def test_faults_are_retried_and_nothing_is_lost(workdir: Path, warehouse, start_sandbox) -> None:
    account = generate_account(seed=5, end_users=150, responses=1700, declines=120, bursts=((90, "responses"),))
    server = start_sandbox(account, slow_seconds=3.0)
    for kind in ("500", "503", "truncated", "reset", "429", "slow"):
        server.inject(kind, path_prefix="/v1/responses")
    server.inject("502", path_prefix="/v1/end_users")
    server.inject("truncated", path_prefix="/v1/declines")
    env = sandbox_env(server, SOURCES__WOOTRIC__REQUEST_TIMEOUT="1")
    done = run_cli(warehouse.args, workdir, env)
    assert done.returncode == 0, done.stderr
    log = done.stderr
    for reason in ("HTTP 500", "HTTP 503", "HTTP 502", "invalid JSON body", "connection", "timeout", "429"):
        assert reason in log, f"no retry logged for {reason}:\n{log}"
    assert "Traceback" not in log
    assert_warehouse_exact(account, warehouse.read)


@only_on("duckdb")
@pytest.mark.parametrize("revoked", [False, True])
def test_token_expiry_mid_run_renews_and_loses_nothing(workdir: Path, warehouse, start_sandbox, revoked: bool) -> None:
    """A token that expires mid-run is renewed before it is used again (no 401); a token revoked mid-run
    is renewed with the refresh_token grant after exactly one 401. The run's first API answer is held in
    the sandbox meanwhile, so the token runs out at a known point, whatever the machine's speed."""
    account = generate_account(seed=6, end_users=100, responses=600, declines=100)
    server = start_sandbox(account, token_ttl=7200 if revoked else 2)
    env = {
        "SOURCES__WOOTRIC__BASE_URL": server.url,
        "SOURCES__WOOTRIC__CREDENTIALS__USERNAME": server.username,
        "SOURCES__WOOTRIC__CREDENTIALS__PASSWORD": server.password,
    }
    with HeldCall(server, "run", matches=api_request()) as held:
        proc = start_cli(warehouse.args, workdir, env)
        assert held.entered.wait(120), "the run never reached the API"
        server.token_ttl = 7200  # the renewed token outlives the run
        if revoked:
            server.expire_tokens()
        else:
            # the token's real lifetime, counted from after the client received it: expired on both clocks
            # when the held answer goes out (a slower machine only makes it later, never earlier)
            time.sleep(2.0)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    stats = server.stats()
    assert stats["status_counts"].get(401, 0) == (1 if revoked else 0), stats
    if revoked:
        assert stats["token_requests"] == 2, stats
    else:  # the first token and its renewal; a machine slow enough to outlive the first token before its
        assert stats["token_requests"] >= 2, stats  # first request renews once more, still without a 401
    assert "Traceback" not in err
    assert_warehouse_exact(account, warehouse.read)


def test_sigkill_mid_run_then_rerun_is_exact(workdir: Path, warehouse, start_sandbox) -> None:
    account = generate_account(seed=7, end_users=100, responses=1200, declines=200, bursts=((100, "responses"),))
    server = start_sandbox(account)
    env = sandbox_env(server)
    # killed while it waits on its 15th API answer (of about 35)
    with HeldCall(server, "run", at=15, matches=api_request()) as held:
        proc = start_cli(warehouse.args, workdir, env)
        assert held.entered.wait(120), "the run never reached its 15th API request"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    account.add_responses(20)
    done = run_cli(warehouse.args, workdir, env)
    assert done.returncode == 0, done.stderr
    assert_warehouse_exact(account, warehouse.read)


def test_postgres_backfill_incremental_and_state_from_destination(workdir: Path, start_sandbox) -> None:
    account = crowded_account(seed=12)
    server = start_sandbox(account)
    dataset = f"wootric_{uuid.uuid4().hex[:8]}"
    env = sandbox_env(server)
    args = ["--destination", "postgres", "--dataset-name", dataset]
    try:
        done = run_cli(args, workdir, env)
        assert done.returncode == 0, done.stderr
        assert_warehouse_exact(account, lambda t: read_postgres(dataset, t))

        account.add_responses(12)
        account.update_end_users(4)
        # the local pipeline folder is gone: dlt must restore the incremental state from Postgres
        env["DLT_DATA_DIR"] = str(workdir / "fresh-dlt-data")
        server.reset_stats()
        done = run_cli(args, workdir, env)
        assert done.returncode == 0, done.stderr
        assert loaded(done.stdout) == {"responses": 12, "end_users": 4}, done.stdout
        assert all(n <= 2 for n in stream_requests(server.stats()).values())
        assert_warehouse_exact(account, lambda t: read_postgres(dataset, t))

        # the analyst views depend on the tables: a full refresh must still be able to drop them
        for _ in range(2):
            done = run_cli([*args, "--full-refresh"], workdir, env)
            assert done.returncode == 0, done.stderr
        assert_warehouse_exact(account, lambda t: read_postgres(dataset, t))
    finally:
        drop_postgres_dataset(dataset)


def test_full_refresh_and_resources_and_start_date(workdir: Path, warehouse, start_sandbox) -> None:
    account = generate_account(seed=8, end_users=80, responses=600, declines=60)
    server = start_sandbox(account)
    env = sandbox_env(server)
    cut = sorted(r["created_at"] for r in account.truth("responses"))[300]
    done = run_cli([*warehouse.args, "--resources", "responses", "--start-date", cut.date().isoformat()], workdir, env)
    assert done.returncode == 0, done.stderr
    landed = warehouse.read("responses")
    midnight = cut.replace(hour=0, minute=0, second=0)
    expected = [r for r in account.truth("responses") if r["created_at"] >= midnight]
    assert_exact("responses", expected, landed)
    assert "end_users" not in done.stdout

    done = run_cli([*warehouse.args, "--full-refresh"], workdir, env)
    assert done.returncode == 0, done.stderr
    assert_warehouse_exact(account, warehouse.read)


def test_demo_lands_exact_tables_offline(workdir: Path) -> None:
    done = run_cli(["--demo"], workdir, {})
    assert done.returncode == 0, done.stderr
    assert "missing 0  duplicated 0" in done.stdout
    assert done.stdout.count("missing 0  duplicated 0") == 3
    assert "NPS over" in done.stdout
    assert (workdir / "feedback_demo.duckdb").exists()
    assert "analyst views: nps_daily, nps_monthly, nps_by_segment, feedback" in done.stdout
    # with the [themes] extra (dev installs it) the demo themes the comments before drawing the report
    assert re.search(r"^themes: default \d+ themes \(fitted\), [\d,]+ comments", done.stdout, re.M), done.stdout
    # the demo draws the report itself and says where it is
    page, png = workdir / "nps_report.html", workdir / "nps_report.png"
    assert f"report: {page}" in done.stdout and f"        {png}" in done.stdout
    assert png.stat().st_size > 20_000 and page.stat().st_size > 20_000
    page.unlink()
    drawn = run_cli(["report", "--demo"], workdir, {})
    assert drawn.returncode == 0, drawn.stderr
    assert page.stat().st_size > 20_000


def test_console_script_with_progress_and_debug_logs_leaks_no_secret(workdir: Path, warehouse, start_sandbox) -> None:
    account = generate_account(seed=13, end_users=50, responses=300, declines=30)
    server = start_sandbox(account)
    server.inject("401", path_prefix="/v1/responses")  # forces a renewal, so refresh tokens are in play too
    env = {
        "SOURCES__WOOTRIC__BASE_URL": server.url,
        "SOURCES__WOOTRIC__CREDENTIALS__USERNAME": server.username,
        "SOURCES__WOOTRIC__CREDENTIALS__PASSWORD": server.password,
        "RUNTIME__LOG_LEVEL": "DEBUG",
    }
    script = Path(sys.executable).with_name("wootric-pipeline")
    full_env = {
        **os.environ,
        **env,
        "DLT_DATA_DIR": str(workdir / "dlt-data"),
        "DESTINATION__POSTGRES__CREDENTIALS": PG_DSN,
    }
    done = subprocess.run(
        [str(script), *warehouse.args, "--progress", "log"],
        cwd=workdir,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    output = done.stdout + done.stderr
    assert "responses" in done.stdout
    secrets = [server.password, *server._tokens, *server._refresh_tokens]
    assert len(secrets) >= 3
    for secret in secrets:
        assert secret not in output
    assert_warehouse_exact(account, warehouse.read)


def test_response_edits_inside_the_lookback_window_reach_the_warehouse(workdir: Path, warehouse, start_sandbox) -> None:
    account = generate_account(seed=16, end_users=60, responses=900, declines=20)
    server = start_sandbox(account)
    env = sandbox_env(server, SOURCES__WOOTRIC__RESPONSES_LOOKBACK_DAYS="7")
    assert run_cli(warehouse.args, workdir, env).returncode == 0

    by_created = sorted(account.truth("responses"), key=lambda r: r["created_at"])
    newest = by_created[-1]["created_at"]
    recent = next(r for r in reversed(by_created) if 1 <= (newest - r["created_at"]).days <= 5)
    old = next(r for r in by_created if (newest - r["created_at"]).days > 30)
    account.update_responses([recent["id"]], tags=["EDITED"], excluded_from_calculations=True, completed=True)
    account.update_responses([old["id"]], tags=["TOO-OLD"])
    server.reset_stats()
    done = run_cli(warehouse.args, workdir, env)
    assert done.returncode == 0, done.stderr
    assert loaded(done.stdout) == {"responses": 1}, done.stdout
    rows = {r["id"]: r for r in warehouse.read("responses")}
    assert json_value(rows[recent["id"]]["tags"]) == ["EDITED"]
    assert rows[recent["id"]]["excluded_from_calculations"] is True
    # documented limit: an edit older than the window is not seen by incremental runs
    assert json_value(rows[old["id"]]["tags"]) != ["TOO-OLD"]
    in_window = sum(1 for r in by_created if (newest - r["created_at"]).total_seconds() <= 7 * 86400)
    assert server.stats()["by_path"]["/v1/responses"] <= in_window // 49 + 2

    server.reset_stats()
    done = run_cli(warehouse.args, workdir, {**env, "SOURCES__WOOTRIC__RESPONSES_LOOKBACK_DAYS": "0"})
    assert loaded(done.stdout) == {}, done.stdout
    assert server.stats()["by_path"]["/v1/responses"] == 1
