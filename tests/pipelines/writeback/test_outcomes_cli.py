"""End to end (CLI, Woku sandbox over loopback, real DuckDB and PostgreSQL): no write-back outcome is lost.

Issue 12, "lost audit rows": a destination that cannot take the results must stop the run before its first
request; a load that fails after the sends must say so (exit 5) and keep every outcome for the next run,
which loads them (and any pending package) before it sends anything, each row exactly once.

The load is made to fail after the sends by a results table whose `status` column an operator created as
an integer: the connection and the checks pass, the load fails, and `ALTER ... TYPE text` repairs it.
"""

from pathlib import Path
from typing import Any, Dict, List, Tuple

import duckdb
import psycopg2
import pytest

from tests.conftest import only_on, run_cli, woku_env
from tests.pipelines.writeback.test_trackers_cli import (
    SCRIPT,
    dataset_of,
    small_company,
    summary,
    value_on_sandbox,
    write_csv,
)
from tests.pipelines.writeback.test_voicemails_cli import (
    TIMEOUT,
    company,
    invalid_rows,
    key,
    posts,
    valid_rows,
    write_manifest,
)
from tests.support.warehouse import PG_DSN

TRACKERS = "tracker_writeback_results"
VOICEMAILS = "voicemail_results"
STRANGER = "0123456789abcdef01234567"  # an ObjectId no company holds: the API answers 404


def break_table(warehouse: Any, workdir: Path, table: str) -> None:
    """The results table exists with `status` as an integer: the load of text statuses fails."""
    dataset = dataset_of(warehouse)
    if warehouse.name == "duckdb":
        with duckdb.connect(str(workdir / "feedback.duckdb")) as con:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {dataset}")
            con.execute(f"CREATE TABLE {dataset}.{table} (row_number BIGINT, status BIGINT)")
        return
    with psycopg2.connect(PG_DSN) as con, con.cursor() as cur:
        cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{dataset}"')
        cur.execute(f'CREATE TABLE "{dataset}".{table} (row_number bigint, status bigint)')


def repair_table(warehouse: Any, workdir: Path, table: str) -> None:
    dataset = dataset_of(warehouse)
    if warehouse.name == "duckdb":
        with duckdb.connect(str(workdir / "feedback.duckdb")) as con:
            con.execute(f"ALTER TABLE {dataset}.{table} ALTER status TYPE VARCHAR")
        return
    with psycopg2.connect(PG_DSN) as con, con.cursor() as cur:
        cur.execute(f'ALTER TABLE "{dataset}".{table} ALTER COLUMN status TYPE text USING status::text')


def journals(workdir: Path) -> List[Path]:
    return sorted((workdir / "dlt-data").rglob("*.journal.jsonl"))


def tracker_rows(co: Any, tag: str) -> Tuple[List[List[str]], Dict[int, Tuple[str, Any]]]:
    """3 rows assigned, 1 refused by the API (404), 1 invalid before sending; and per row (status, http)."""
    nps, woku = co.ids("nps_tools"), co.ids("wokus")
    rows = [
        ["nps", nps[0], "trr", f"{tag}-1"],
        ["woku", woku[0], "trr", f"{tag}-2"],
        ["nps", nps[0], "trr", ""],  # invalid: value is empty
        ["nps", STRANGER, "trr", f"{tag}-4"],
        ["woku", woku[1], "trr", f"{tag}-5"],
    ]
    expected = {1: ("assigned", 201), 2: ("assigned", 201), 3: ("rejected", None), 4: ("rejected", 404)}
    expected[5] = ("assigned", 201)
    return rows, expected


def trackers(workdir: Path, server: Any, warehouse: Any, csv: str, **env: str) -> Any:
    args = ["trackers", "--file", csv, *warehouse.args]
    return run_cli(args, workdir, woku_env(server, **env), script=SCRIPT)


def by_run(landed: List[Dict[str, Any]]) -> Dict[str, Dict[int, Tuple[Any, ...]]]:
    """run_id -> row_number -> (status, http_status); a row twice in a run fails the test."""
    runs: Dict[str, Dict[int, Tuple[Any, ...]]] = {}
    for r in landed:
        rows = runs.setdefault(r["run_id"], {})
        assert r["row_number"] not in rows, f"row {r['row_number']} of run {r['run_id']} landed twice"
        rows[r["row_number"]] = (r["status"], r["http_status"])
    return runs


def assert_destination_line(done: Any, *fragments: str) -> None:
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    # (dlt itself logs a failed load job with its traceback, above; the run ends in one line)
    assert len(errors) == 1 and done.stderr.rstrip().endswith(errors[0]), done.stderr
    for fragment in fragments:
        assert fragment in errors[0], done.stderr


# ------------------------------------------------------------------------------- destination down: no sends
@pytest.mark.parametrize("command", ["trackers", "voicemails"])
def test_wrong_postgres_port_sends_nothing(command: str, workdir: Path, start_woku) -> None:
    co = company(41)
    server = start_woku(co)
    write_csv(workdir / "values.csv", tracker_rows(co, "p")[0])
    write_manifest(workdir, valid_rows(workdir, co, 4))
    source = ["--file", "values.csv"] if command == "trackers" else ["--manifest", "manifest.csv"]
    wrong = "postgresql://postgres:postgres@127.0.0.1:1/test"  # nothing listens on port 1
    env = woku_env(server, DESTINATION__POSTGRES__CREDENTIALS=wrong)

    done = run_cli([command, *source, "--destination", "postgres"], workdir, env, script=SCRIPT)

    assert done.returncode == 5, done.stdout + done.stderr
    assert_destination_line(done, "port 1", "nothing was sent")
    assert server.stats()["requests"] == 0, server.stats()["by_path"]
    assert "results in" not in done.stdout
    assert not journals(workdir)


# ------------------------------------------------------------------- a failed load: kept, then loaded first
def test_trackers_failed_load_keeps_every_outcome_for_the_next_run(workdir: Path, woku_warehouse, start_woku) -> None:
    co = small_company(42)
    server = start_woku(co)
    first_rows, first_expected = tracker_rows(co, "a")
    write_csv(workdir / "first.csv", first_rows)
    break_table(woku_warehouse, workdir, TRACKERS)

    first = trackers(workdir, server, woku_warehouse, "first.csv")

    assert first.returncode == 5, first.stdout + first.stderr
    assert server.stats()["requests"] == 4, "the 4 valid rows were sent"
    assert "results in" not in first.stdout + first.stderr
    (journal,) = journals(workdir)
    assert f"results NOT loaded: the 5 outcomes are kept in {journal}" in first.stderr, first.stderr
    assert "next run loads them before it sends anything" in first.stderr
    assert_destination_line(first, f"destination failed: loading {TRACKERS}: ", "status")

    repair_table(woku_warehouse, workdir, TRACKERS)
    second_rows = [["woku", co.ids("wokus")[2], "trr", "b-1"], ["nps", STRANGER, "trr", "b-2"]]
    write_csv(workdir / "second.csv", second_rows)
    server.reset_stats()

    second = trackers(workdir, server, woku_warehouse, "second.csv")

    assert second.returncode == 6, second.stdout + second.stderr  # row 2 is refused by the API
    assert f"loaded 5 outcomes an earlier run left in {journal}" in second.stdout
    figures = summary(second.stdout)
    assert (figures["rows"], figures["assigned"], figures["rejected"]) == (2, 1, 1)
    assert figures["tail"] == f"; results in {dataset_of(woku_warehouse)}.{TRACKERS}"
    assert server.stats()["requests"] == 2
    assert not journals(workdir)
    landed = woku_warehouse.read(TRACKERS)
    runs = by_run(landed)
    assert sorted(map(len, runs.values())) == [2, 5], "every row of both runs, each exactly once"
    run_ids = sorted(runs)  # sortable by start time
    assert runs[run_ids[0]] == first_expected
    assert runs[run_ids[1]] == {1: ("assigned", 201), 2: ("rejected", 404)}
    first_landed = {r["row_number"]: r for r in landed if r["run_id"] == run_ids[0]}
    for n, (etype, rid, name, _) in enumerate(first_rows, 1):
        assert (first_landed[n]["entity_type"], first_landed[n]["entity_id"], first_landed[n]["name"]) == (
            etype,
            rid,
            name,
        )
    # the values of the first run's sends are on Woku, exactly as the results say
    assert value_on_sandbox(co, "nps", first_rows[0][1], "trr") == "a-1"
    assert value_on_sandbox(co, "woku", second_rows[0][1], "trr") == "b-1"


@only_on("postgres", "woku_warehouse")
def test_pending_results_of_an_earlier_run_load_before_any_send(workdir: Path, woku_warehouse, start_woku) -> None:
    co = small_company(43)
    server = start_woku(co)
    rows, expected = tracker_rows(co, "c")
    write_csv(workdir / "values.csv", rows)
    break_table(woku_warehouse, workdir, TRACKERS)
    first = trackers(workdir, server, woku_warehouse, "values.csv")
    assert first.returncode == 5, first.stdout + first.stderr
    for journal in journals(workdir):  # only dlt's pending package is left (as an older version leaves it)
        journal.unlink()
    server.reset_stats()

    blocked = trackers(workdir, server, woku_warehouse, "values.csv")

    assert blocked.returncode == 5, blocked.stdout + blocked.stderr
    assert_destination_line(blocked, "results of an earlier run could not be loaded", "nothing was sent")
    assert server.stats()["requests"] == 0, "nothing is sent while an earlier run's results cannot land"

    repair_table(woku_warehouse, workdir, TRACKERS)
    again = trackers(workdir, server, woku_warehouse, "values.csv")

    assert again.returncode == 6, again.stdout + again.stderr
    assert server.stats()["requests"] == 4
    runs = by_run(woku_warehouse.read(TRACKERS))
    assert len(runs) == 2 and all(rows == expected for rows in runs.values()), runs


# ----------------------------------------------------------------------------------------------- voicemails
@only_on("duckdb", "woku_warehouse")
def test_voicemail_results_of_a_failed_load_land_with_the_next_run(workdir: Path, woku_warehouse, start_woku) -> None:
    co = company(44)
    server = start_woku(co)
    env = woku_env(server, SOURCES__WOKU__REQUEST_TIMEOUT=TIMEOUT)
    good = valid_rows(workdir, co, 3)
    (bad, _), *_ = invalid_rows(workdir, co)
    write_manifest(workdir, [*good, bad])
    args = ["voicemails", "--manifest", "manifest.csv", *woku_warehouse.args]
    break_table(woku_warehouse, workdir, VOICEMAILS)

    first = run_cli(args, workdir, env, script=SCRIPT)

    assert first.returncode == 5, first.stdout + first.stderr
    assert posts(server) == 3 and len(co.voicemails_for()) == 3
    (journal,) = journals(workdir)
    assert f"results NOT loaded: the 4 outcomes are kept in {journal}" in first.stderr, first.stderr
    assert "results in" not in first.stdout + first.stderr

    repair_table(woku_warehouse, workdir, VOICEMAILS)
    second = run_cli(args, workdir, env, script=SCRIPT)

    assert second.returncode == 6, second.stdout + second.stderr  # the invalid row
    assert f"loaded 4 outcomes an earlier run left in {journal}" in second.stdout
    assert "4 rows: 3 skipped, 1 invalid (0 POSTs)" in second.stdout, second.stdout
    assert posts(server) == 3 and len(co.voicemails_for()) == 3, "nothing sent twice"
    landed = woku_warehouse.read(VOICEMAILS)
    runs = by_run(landed)
    first_id, second_id = sorted(runs)
    assert runs[first_id] == {1: ("accepted", 201), 2: ("accepted", 201), 3: ("accepted", 201), 4: ("invalid", None)}
    assert runs[second_id] == {1: ("skipped", None), 2: ("skipped", None), 3: ("skipped", None), 4: ("invalid", None)}
    keys = {r["row_number"]: r["ledger_key"] for r in landed if r["run_id"] == first_id}
    assert [keys[n] for n in (1, 2, 3)] == [key(r) for r in good]
    assert len(woku_warehouse.read("voicemails")) == 3


# ------------------------------------------------------------------ each destination and dataset its own
def test_outcomes_kept_for_one_dataset_land_in_that_dataset_only(workdir: Path, start_woku) -> None:
    """Issue 19: results kept by a run into dataset B (journal and pending package) are not loaded into
    dataset A by a run into A; they land in B with B's next run."""
    co = small_company(45)
    server = start_woku(co)
    rows, expected = tracker_rows(co, "d")
    write_csv(workdir / "values.csv", rows)
    in_b = ["trackers", "--file", "values.csv", "--destination", "duckdb", "--dataset-name", "woku_b"]
    in_a = ["trackers", "--file", "values.csv", "--destination", "duckdb", "--dataset-name", "woku_a"]
    with duckdb.connect(str(workdir / "feedback.duckdb")) as con:
        con.execute("CREATE SCHEMA woku_b")
        con.execute(f"CREATE TABLE woku_b.{TRACKERS} (row_number BIGINT, status BIGINT)")
    assert run_cli(in_b, workdir, woku_env(server), script=SCRIPT).returncode == 5
    assert journals(workdir)

    into_a = run_cli(in_a, workdir, woku_env(server), script=SCRIPT)

    assert into_a.returncode == 6, into_a.stdout + into_a.stderr
    assert "an earlier run left" not in into_a.stdout
    with duckdb.connect(str(workdir / "feedback.duckdb")) as con:
        landed_a = con.execute(f"SELECT run_id, row_number FROM woku_a.{TRACKERS}").fetchall()
        con.execute(f"ALTER TABLE woku_b.{TRACKERS} ALTER status TYPE VARCHAR")
    assert len({run for run, _ in landed_a}) == 1 and len(landed_a) == 5, landed_a

    into_b = run_cli(in_b, workdir, woku_env(server), script=SCRIPT)

    assert into_b.returncode == 6, into_b.stdout + into_b.stderr
    with duckdb.connect(str(workdir / "feedback.duckdb")) as con:
        landed_b = con.execute(f"SELECT run_id, row_number, status, http_status FROM woku_b.{TRACKERS}").fetchall()
    runs = by_run([dict(zip(("run_id", "row_number", "status", "http_status"), r, strict=True)) for r in landed_b])
    assert len(runs) == 2 and all(found == expected for found in runs.values()), runs
    assert not journals(workdir)


# ----------------------------------------------------------------------------- a journal that cannot be read
def journal_of(workdir: Path, dataset: str = "woku") -> Path:
    """Where a trackers run into `dataset` (DuckDB) keeps its journal: docs/writeback.md names the folder."""
    return workdir / "dlt-data" / "pipelines" / f"woku_trackers.duckdb.{dataset}" / "woku_trackers.journal.jsonl"


@pytest.mark.parametrize(
    "content",
    [b'{"foo": 1}\n', b"\xff\xfe\x00\x81garbage\n\x80\n", b'{"row_number": 1, "run_id": "r", "status": 7}\n{"row'],
    ids=["wrong fields", "random bytes", "wrong type"],
)
def test_a_journal_that_cannot_be_read_stops_before_any_send(content: bytes, workdir: Path, start_woku) -> None:
    co = small_company(46)
    server = start_woku(co)
    write_csv(workdir / "values.csv", tracker_rows(co, "e")[0])
    journal = journal_of(workdir)
    journal.parent.mkdir(parents=True)
    journal.write_bytes(content)

    done = run_cli(["trackers", "--file", "values.csv"], workdir, woku_env(server), script=SCRIPT)

    assert done.returncode == 5, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert_destination_line(done, str(journal), "line 1", "move it aside", "nothing was sent")
    assert server.stats()["requests"] == 0
    assert journal.read_bytes() == content, "the journal is kept as it was"


def test_a_cut_off_last_line_is_skipped_with_a_warning(workdir: Path, start_woku) -> None:
    co = small_company(47)
    server = start_woku(co)
    write_csv(workdir / "values.csv", tracker_rows(co, "f")[0])
    journal = journal_of(workdir)
    journal.parent.mkdir(parents=True)
    at = "2026-03-01T12:00:00+00:00"
    journal.write_text(
        '{"row_number": 1, "entity_type": "nps", "entity_id": null, "name": "trr", "status": "assigned",'
        f' "http_status": 201, "message": "created", "at": "{at}", "run_id": "r0"}}\n{{"row_number": 2, "st',
        encoding="utf-8",
    )

    done = run_cli(["trackers", "--file", "values.csv"], workdir, woku_env(server), script=SCRIPT)

    assert done.returncode == 6, done.stdout + done.stderr
    assert f"loaded 1 outcomes an earlier run left in {journal}" in done.stdout
    warnings = [line for line in done.stderr.splitlines() if "cut short" in line]
    assert len(warnings) == 1 and str(journal) in warnings[0], done.stderr
    with duckdb.connect(str(workdir / "feedback.duckdb")) as con:
        assert con.execute(f"SELECT count(*) FROM woku.{TRACKERS} WHERE run_id = 'r0'").fetchall() == [(1,)]
