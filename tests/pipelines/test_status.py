"""End to end: `status` through the CLI, after real syncs against the sandbox, on DuckDB and
PostgreSQL: never loaded, fresh, too old (`--max-age`), a failed run and a killed one."""

import signal
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List

import duckdb
import psycopg2

from sandbox.wootric import generate_account
from tests.conftest import only_on, run_cli, sandbox_env, start_cli
from tests.support.hold import HeldCall, api_request
from tests.support.warehouse import PG_DSN

EXIT_STALE = 8


def table_lines(stdout: str) -> Dict[str, List[str]]:
    """`  default  responses  400  2025-…Z (created_at)  …` -> {"responses": [words…]}."""
    out = {}
    for line in stdout.splitlines():
        words = line.split()
        if len(words) > 3 and words[0] == "default":
            out[words[1]] = words
    return out


def age_loads(warehouse, workdir: Path, days: int) -> None:
    """Move every load `days` into the past, as if the pipeline had stopped running then."""
    if warehouse.name == "duckdb":
        with duckdb.connect(str(workdir / "feedback.duckdb")) as con:
            con.execute(f"UPDATE wootric._dlt_loads SET inserted_at = inserted_at - INTERVAL {days} DAY")
        return
    dataset = warehouse.args[warehouse.args.index("--dataset-name") + 1]
    with psycopg2.connect(PG_DSN) as con, con.cursor() as cur:
        cur.execute(f"UPDATE \"{dataset}\"._dlt_loads SET inserted_at = inserted_at - interval '{days} days'")


def newest(records, column: str) -> str:
    return max(r[column] for r in records).astimezone(timezone.utc).strftime("%Y-%m-%d")


def test_status_never_loaded_fresh_stale_failed_and_killed(workdir: Path, warehouse, start_sandbox) -> None:
    account = generate_account(seed=61, end_users=40, responses=300, declines=20)
    server = start_sandbox(account)
    env = sandbox_env(server, SOURCES__WOOTRIC__HISTORY="true")
    status = ["status", *warehouse.args]

    never = run_cli(status, workdir, env)
    assert never.returncode == EXIT_STALE, never.stderr
    assert "has never been loaded" in never.stdout.splitlines()[0]
    assert not (workdir / "feedback.duckdb").exists(), "status created the DuckDB file"
    assert run_cli(["status", "--max-age", "soon", *warehouse.args], workdir, env).returncode == 2

    started = datetime.now(timezone.utc).replace(microsecond=0)
    assert run_cli(warehouse.args, workdir, env).returncode == 0
    ended = datetime.now(timezone.utc)
    done = run_cli(status, workdir, env)
    assert done.returncode == 0, done.stdout + done.stderr
    tables = table_lines(done.stdout)
    for table in ("end_users", "responses", "declines", "responses_history"):
        assert int(tables[table][2].replace(",", "")) == account.count(table.replace("_history", "")), tables[table]
    assert tables["responses"][3] == newest(account.truth("responses"), "created_at")
    assert tables["end_users"][3] == newest(account.truth("end_users"), "updated_at")
    loaded_at = datetime.strptime(" ".join(tables["responses"][-4:-2]), "%Y-%m-%d %H:%M:%SZ")
    assert started <= loaded_at.replace(tzinfo=timezone.utc) <= ended  # the load of the run just now
    assert "pending load packages: none" in done.stdout
    assert "last ended run: succeeded" in done.stdout

    fresh = run_cli([*status, "--max-age", "26h"], workdir, env)
    assert fresh.returncode == 0 and "fresh: every table" in fresh.stdout, fresh.stdout
    age_loads(warehouse, workdir, 3)
    old = run_cli([*status, "--max-age", "26h"], workdir, env)
    assert old.returncode == EXIT_STALE, old.stdout + old.stderr
    stale = {line.split()[2].rstrip(":") for line in old.stdout.splitlines() if line.startswith("stale:")}
    assert {"end_users", "responses", "declines", "responses_history"} <= stale
    assert run_cli([*status, "--max-age", "4d"], workdir, env).returncode == 0
    assert run_cli([*status, "--max-age", "90m"], workdir, env).returncode == EXIT_STALE

    # a run that fails is recorded with its exit status; the tables keep their last successful load
    refused = run_cli(warehouse.args, workdir, {**env, "SOURCES__WOOTRIC__CREDENTIALS__CLIENT_SECRET": "wrong-secret"})
    assert refused.returncode == 3
    after = run_cli([*status, "--max-age", "26h"], workdir, env)
    assert after.returncode == EXIT_STALE
    assert "last ended run: failed with exit 3" in after.stdout, after.stdout

    # a run killed mid-extract leaves no record of its own: its lock names it, with a dead pid
    account.add_responses(100)
    server.reset_stats()
    # its first page of responses is held: the run is still going when `status` looks and when it is killed
    with HeldCall(server, "run", matches=api_request("/v1/responses")) as held:
        proc = start_cli(warehouse.args, workdir, env)
        assert held.entered.wait(120), "the run never reached the responses"
        running = run_cli(status, workdir, env)
        assert f"running now: pid {proc.pid}" in running.stdout, running.stdout
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    killed = run_cli(status, workdir, env)
    assert f"(pid {proc.pid}) and never ended: killed or crashed" in killed.stdout, killed.stdout


@only_on("bigquery")
def test_status_lists_the_tables_on_bigquery(workdir: Path, warehouse, start_sandbox) -> None:
    # BigQuery keeps INFORMATION_SCHEMA per dataset: an unqualified one listed no table at all
    account = generate_account(seed=62, end_users=20, responses=50, declines=5)
    env = sandbox_env(start_sandbox(account))
    assert run_cli(warehouse.args, workdir, env).returncode == 0
    done = run_cli(["status", "--max-age", "1h", *warehouse.args], workdir, env)
    assert done.returncode == 0, done.stdout + done.stderr
    tables = table_lines(done.stdout)
    assert int(tables["responses"][2]) == account.count("responses"), done.stdout
    assert tables["responses"][3] == newest(account.truth("responses"), "created_at")
