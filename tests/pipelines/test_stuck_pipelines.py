"""End to end, issue 12 "stuck pipelines": a 30 MB text loads into DuckDB; a package that cannot
load is named in one line on every run until it is fixed or dropped; a `--full-refresh` killed
after its drop is finished by the next run, whose summary counts what it loaded. Each is checked
against the sandbox's ground truth: zero lost, zero duplicated."""

import random
import re
import signal
import subprocess
import time
import uuid
from contextlib import closing
from pathlib import Path
from typing import Dict, List, Optional

import psycopg2
import pytest

from sandbox.wootric import generate_account
from tests.conftest import run_cli, sandbox_env, start_cli
from tests.support.summary import loaded
from tests.support.warehouse import PG_DSN, assert_exact, drop_postgres_dataset, read_duckdb, read_postgres

TABLES = ("end_users", "responses", "declines")
QUIET = ["--destination", "duckdb", "--progress", "none"]


def small_account(seed: int):
    return generate_account(seed=seed, end_users=50, responses=300, declines=20)


def with_huge_text(account, characters: int = 30_000_000) -> int:
    """30 million characters of feedback with umlauts (34 MB of UTF-8), incompressible: the value
    alone needs a 64 MiB buffer in DuckDB, which a 128 MB cap cannot give."""
    rng = random.Random(7)
    text = "".join(rng.choices("abcdefghijklmnopqrstuvwxyz äöüéß.,", k=characters))
    rid = account.truth("responses")[5]["id"]
    account.update_responses([rid], text=text)
    return rid


def assert_duckdb_exact(account, workdir: Path) -> None:
    for table in TABLES:
        assert_exact(table, account.truth(table), read_duckdb(workdir / "feedback.duckdb", "wootric", table))


def error_lines(stderr: str) -> List[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def test_a_response_with_a_30_mb_text_loads_into_duckdb(workdir: Path, start_sandbox) -> None:
    account = small_account(3)
    rid = with_huge_text(account)
    server = start_sandbox(account)
    done = run_cli(QUIET, workdir, sandbox_env(server))
    # before: exit 5, "Out of Memory Error: failed to allocate data of size 64.0 MiB (…/122.0 MiB used)". Whether this
    # DuckDB needs the second try with headroom is its own business (tests/pipelines/warehouse/test_destinations.py)
    assert done.returncode == 0, done.stderr[-2000:]
    assert loaded(done.stdout) == {"end_users": 50, "responses": 300, "declines": 20}
    assert_duckdb_exact(account, workdir)  # the 30 MB text included, character for character
    landed = {r["id"]: r for r in read_duckdb(workdir / "feedback.duckdb", "wootric", "responses")}
    assert len(landed[rid]["text"]) == 30_000_000


def test_a_package_that_cannot_load_is_named_on_every_run_until_dropped(workdir: Path, start_sandbox) -> None:
    account = small_account(4)
    with_huge_text(account, 10_000_000)  # 11 MB of UTF-8
    server = start_sandbox(account)
    # a cap smaller than the value itself, whatever the DuckDB version: this package cannot load (any
    # destination failure that persists behaves alike)
    blocked = sandbox_env(server, DESTINATION__DUCKDB__MEMORY_LIMIT="8MB")
    lines = []
    for _ in range(2):  # the run that extracted it, and a later run that only retries it
        done = run_cli(QUIET, workdir, blocked)
        assert done.returncode == 5, done.stderr[-2000:]
        errors = error_lines(done.stderr)
        assert len(errors) == 1 and done.stderr.rstrip().endswith(errors[0]), done.stderr[-2000:]
        lines.append(errors[0])
    first = lines[0]
    # before: "... Last failure message was: Traceback (most recent call last):"
    assert "Traceback" not in first
    # the job named is the first the loader tried: the 11 MB responses file, or another table's that the
    # 8 MB cap also refuses (dlt takes a package's jobs in the order it lists their files)
    assert "load package 1" in first and re.search(r"job (\w+)\.\w+\.\w+ \(table '\1'\)", first), first
    assert "Out of Memory Error" in first and "--drop-pending" in first, first
    assert lines[1].split(",")[0] == first.split(",")[0]  # the same package, named again

    done = run_cli([*QUIET, "--drop-pending"], workdir, sandbox_env(server))
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"discarded {first.split(',')[0].removeprefix('error: ')}" in done.stdout, done.stdout
    # the state was rewound: the discarded package's records are extracted again, and nothing is doubled
    assert loaded(done.stdout)["responses"] == 300, done.stdout
    assert_duckdb_exact(account, workdir)
    done = run_cli(QUIET, workdir, sandbox_env(server))
    assert done.returncode == 0 and loaded(done.stdout) == {}, done.stdout + done.stderr[-2000:]
    assert_duckdb_exact(account, workdir)


def pg_counts(dataset: str) -> Dict[str, Optional[int]]:
    """Rows per table; None for a table that does not exist, also one the run drops while we look."""
    counts: Dict[str, Optional[int]] = {}
    # `closing`, not `with psycopg2.connect() as con`: since psycopg2 2.9 that opens a transaction on entering,
    # so an autocommit set inside comes too late and the first missing table aborts every count after it
    with closing(psycopg2.connect(PG_DSN)) as con:
        con.autocommit = True
        with con.cursor() as cur:
            for table in TABLES:
                try:
                    cur.execute(f'SELECT count(*) FROM "{dataset}"."{table}"')
                    counts[table] = cur.fetchone()[0]
                except psycopg2.errors.UndefinedTable:
                    counts[table] = None
    return counts


def waiting_on_lock(dataset: str) -> bool:
    """The run's own load waits on our lock (not another test's session elsewhere in the cluster)."""
    with closing(psycopg2.connect(PG_DSN)) as con, con.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE %s",
            (f"%{dataset}_staging%",),
        )
        return cur.fetchone()[0] > 0


def kill_after_drop(proc: subprocess.Popen, dataset: str) -> Dict[str, Optional[int]]:
    """Wait until the refresh has dropped (and emptied) the tables and its load waits on our lock."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        counts = pg_counts(dataset)
        if not any(counts.values()) and waiting_on_lock(dataset):
            break
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.2)
    else:
        pytest.fail("the refresh never reached its load")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    return pg_counts(dataset)


def test_b_a_full_refresh_killed_after_its_drop_is_finished_and_counted_by_the_next_run(
    workdir: Path, start_sandbox
) -> None:
    account = generate_account(seed=6, end_users=200, responses=1500, declines=40)
    server = start_sandbox(account)
    env = sandbox_env(server)
    dataset = f"e2e_{uuid.uuid4().hex[:10]}"
    args = ["--destination", "postgres", "--dataset-name", dataset, "--progress", "none"]
    try:
        done = run_cli(args, workdir, env)
        assert done.returncode == 0, done.stderr[-2000:]
        # what a refresh is for: deletions an incremental run cannot see
        deleted = [r["id"] for r in account.truth("responses")[:25]]
        for rid in deleted:
            account.delete("responses", rid)
        lock = psycopg2.connect(PG_DSN)
        try:  # the refresh's load stops at the staging table, after the dataset's tables are dropped
            lock.cursor().execute(f'LOCK TABLE "{dataset}_staging"."responses" IN ACCESS EXCLUSIVE MODE')
            after_kill = kill_after_drop(start_cli([*args, "--full-refresh"], workdir, env), dataset)
        finally:
            lock.rollback()
            lock.close()
        assert after_kill == {"end_users": 0, "responses": 0, "declines": 0}  # dlt's drop, not undone

        done = run_cli(args, workdir, env)  # a plain run finishes the refresh
        assert done.returncode == 0, done.stderr[-2000:]
        # before: "nothing new to load" while it loaded 1,735 rows
        assert "nothing new to load" not in done.stdout, done.stdout
        assert "rows from an earlier run's load package" in done.stdout, done.stdout
        earlier = loaded(done.stdout.replace(" rows from the earlier package", " rows"))
        assert earlier == {"end_users": 200, "responses": 1475, "declines": 40}, done.stdout
        for table in TABLES:  # exact: the deleted responses are gone, nothing lost or doubled
            assert_exact(table, account.truth(table), read_postgres(dataset, table))
        assert not {r["id"] for r in read_postgres(dataset, "responses")} & set(deleted)

        account.add_responses(9)  # the refreshed state was kept: the next run loads only what is new
        done = run_cli(args, workdir, env)
        assert done.returncode == 0, done.stderr[-2000:]
        assert loaded(done.stdout) == {"responses": 9}, done.stdout
        for table in TABLES:
            assert_exact(table, account.truth(table), read_postgres(dataset, table))
    finally:
        drop_postgres_dataset(dataset)
