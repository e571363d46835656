"""End to end: `woku_pipeline.py trackers` over loopback HTTP against the Woku sandbox, on DuckDB and
PostgreSQL, checked against the sandbox's own record of every tracker value."""

import csv
import random
import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import duckdb
import psycopg2
import pytest

from sandbox.woku import generate_company
from tests.conftest import only_on, run_cli, woku_env
from tests.support.warehouse import PG_DSN

SCRIPT = "woku_pipeline.py"
RESULTS = "tracker_writeback_results"
HEADER = ["entity_type", "entity_id", "name", "value"]
#: the entity types and the sandbox collections that hold them
ENTITIES = {"nps": "nps_tools", "csat": "csat_tools", "ces": "ces_tools", "form": "forms", "flow": "flows"}
ENTITIES["woku"] = "wokus"
SUMMARY = re.compile(
    r"^trackers: ([\d,]+) rows: ([\d,]+) assigned, ([\d,]+) rejected, ([\d,]+) failed"
    r" \(([\d,]+) requests, ([\d,]+) retries\)(.*)$",
    re.M,
)


def small_company(seed: int = 21) -> Any:
    """Every entity type and tracker state, with few responses: this test writes, it does not sync."""
    return generate_company(seed, nps_responses=20, csat_responses=10, ces_responses=10, reviews=20, form_responses=10)


def entities(company: Any) -> List[Tuple[str, str]]:
    return [(etype, rid) for etype, kind in ENTITIES.items() for rid in company.ids(kind)]


def definitions(company: Any, active: bool) -> List[str]:
    return [d["name"] for d in company.truth("external_tracker_definitions") if d["active"] is active]


def write_csv(path: Path, rows: Sequence[Sequence[Any]], header: Sequence[str] = HEADER) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def summary(stdout: str) -> Dict[str, Any]:
    match = SUMMARY.search(stdout)
    assert match, stdout
    keys = ("rows", "assigned", "rejected", "failed", "requests", "retries")
    figures = {k: int(v.replace(",", "")) for k, v in zip(keys, match.groups()[:6], strict=True)}
    return {**figures, "tail": match.group(7)}


def dataset_of(warehouse: Any) -> str:
    args = warehouse.args
    return args[args.index("--dataset-name") + 1] if "--dataset-name" in args else "woku"


def value_on_sandbox(company: Any, entity_type: str, entity_id: str, name: str) -> Optional[str]:
    tracker_id = company.tracker_by_name(name)["_id"]
    found = [v["value"] for v in company.tracker_values(entity_type, entity_id) if v["trackerId"] == tracker_id]
    return found[0] if found else None


def assert_one_error_line(done: Any, expected: str) -> None:
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and expected in errors[0], done.stderr


def nothing_written(warehouse: Any, workdir: Path) -> bool:
    if warehouse.name == "duckdb":
        return not (workdir / "feedback.duckdb").exists()
    with psycopg2.connect(PG_DSN) as con, con.cursor() as cur:
        cur.execute("SELECT count(*) FROM information_schema.schemata WHERE schema_name = %s", (dataset_of(warehouse),))
        return cur.fetchone()[0] == 0


# ------------------------------------------------------------------------------ the 1,000-row write-back
def thousand_rows(company: Any, seed: int = 5) -> Tuple[List[List[Any]], Dict[int, Tuple[Optional[int], str]]]:
    """950 valid rows (repeats of the same entity and name included) and 50 invalid ones at random places.

    Returns the rows and, per invalid row number, the HTTP status and a fragment of the reason expected.
    30 are invalid before sending (each rule, and one row breaking all four); 20 are refused by the API
    (unknown entity or tracker, another company's entity, an inactive tracker).
    """
    rng = random.Random(seed)
    targets = entities(company)
    active, inactive = definitions(company, True), definitions(company, False)
    nps_id, woku_id = company.ids("nps_tools")[0], company.ids("wokus")[0]
    stranger = "0123456789abcdef01234567"
    local = [
        (["survey", nps_id, "trr", "v"], "entity_type 'survey' is not one of"),
        (["nps", nps_id[:23], "trr", "v"], "is not a 24-hex ObjectId"),
        (["woku", woku_id + "0", "trr", "v"], "is not a 24-hex ObjectId"),
        (["flow", "g" + nps_id[1:], "trr", "v"], "is not a 24-hex ObjectId"),
        (["csat", "", "trr", "v"], "entity_id is missing"),
        (["nps", nps_id, "", "v"], "name is empty"),
        (["nps", nps_id, "n" * 61, "v"], "name is 61 characters (at most 60)"),
        (["nps", nps_id, "trr", ""], "value is empty"),
        (["woku", woku_id, "trr", "v" * 501], "value is 501 characters (at most 500)"),
        (
            ["survey", "abc", "n" * 61, ""],
            "entity_type 'survey' is not one of nps, csat, ces, form, flow, woku; "
            "entity_id 'abc' is not a 24-hex ObjectId; name is 61 characters (at most 60); value is empty",
        ),
    ]
    remote = [
        (["nps", stranger, "trr", "v"], 404, "Entity not found"),
        (["woku", stranger, "trr", "v"], 404, "Woku not found"),
        (["form", company.foreign_ids["forms"][0], "trr", "v"], 403, "belongs to another company"),
        (["nps", nps_id, "no_such_tracker", "v"], 404, "Tracker 'no_such_tracker' not found"),
        (["woku", woku_id, inactive[0], "v"], 400, f"Tracker '{inactive[0]}' is inactive"),
    ]
    bad: List[Tuple[List[Any], Optional[int], str]] = [(r, None, why) for r, why in local * 3]
    bad += [(r, status, why) for r, status, why in remote * 4]
    assert len(bad) == 50
    values = ["CRM-{}", "{}", "Ünïcode «{}» ✓", 'quote "{}", comma', "line\nbreak {}"]
    good = []
    for i in range(950):
        etype, rid = rng.choice(targets)
        value = rng.choice(values).format(rng.randint(1, 10**6)) if i % 100 else "x" * 500
        good.append([etype, rid, rng.choice(active), value])
    places = sorted(rng.sample(range(1000), 50))
    rows: List[List[Any]] = []
    expected_bad: Dict[int, Tuple[Optional[int], str]] = {}
    good_iter, bad_iter = iter(good), iter(bad)
    for n in range(1000):
        if n in places:
            row, status, why = next(bad_iter)
            expected_bad[n + 1] = (status, why)
            rows.append(row)
        else:
            rows.append(next(good_iter))
    return rows, expected_bad


@only_on("postgres", "woku_warehouse")
def test_thousand_rows_with_invalid_rows_and_faults(workdir: Path, woku_warehouse, start_woku) -> None:
    company = small_company()
    rows, expected_bad = thousand_rows(company)
    server = start_woku(company)
    assign = "/v1/external-trackers/"  # every assignment route; creates go to /v1/external-trackers
    server.inject("503", assign, times=3, method="POST", every=200)
    server.inject("500", assign, times=1, method="POST", every=350)
    server.inject("429", assign, times=1, method="POST", every=300, seconds=1)
    server.inject("reset", assign, times=2, method="POST", every=250)
    server.inject("lost_answer", assign, times=1, method="POST", every=450)
    write_csv(workdir / "values.csv", rows)

    done = run_cli(["trackers", "--file", "values.csv", *woku_warehouse.args], workdir, woku_env(server), script=SCRIPT)

    assert done.returncode == 6, done.stderr
    assert "Traceback" not in done.stderr and server.api_key not in done.stdout + done.stderr
    stats = server.stats()
    assert stats["faults"] == {"503": 3, "500": 1, "429": 1, "reset": 2, "lost_answer": 1}
    figures = summary(done.stdout)
    sent = 950 + 20  # valid rows, and the rows only the API can refuse
    assert figures == {
        "rows": 1000,
        "assigned": 950,
        "rejected": 50,
        "failed": 0,
        "requests": sent + 8,  # every fault costs one more request
        "retries": 7,  # the 429 is a wait for Retry-After, not a retry
        "tail": f"; results in {dataset_of(woku_warehouse)}.{RESULTS}",
    }
    assert stats["requests"] == figures["requests"]
    print(f"\n1,000-row write-back: {done.stdout.strip()}")

    # every valid row is on the sandbox: the last value given per (entity, name) wins
    expected: Dict[Tuple[str, str, str], str] = {}
    for n, (etype, rid, name, value) in enumerate(rows, 1):
        if n not in expected_bad:
            expected[(etype, rid, name)] = value
    assert set(stats["tracker_assignments"]) == {f"{t}:{i}:{name}" for t, i, name in expected}
    wrong = {k: v for k, v in expected.items() if value_on_sandbox(company, *k) != v}
    assert not wrong, f"{len(wrong)} of {len(expected)} values differ, e.g. {list(wrong.items())[:3]}"

    # every input row is in the results once, the invalid ones with their reason
    landed = {r["row_number"]: r for r in woku_warehouse.read(RESULTS)}
    assert sorted(landed) == list(range(1, 1001))
    for n, result in landed.items():
        etype, rid, name, _ = rows[n - 1]
        assert (result["entity_type"], result["entity_id"], result["name"]) == (etype, rid, name)
        assert result["at"].tzinfo is not None
        if n in expected_bad:
            status, why = expected_bad[n]
            assert (result["status"], result["http_status"]) == ("rejected", status), result
            assert why in result["message"], result
        else:
            assert (result["status"], result["http_status"]) == ("assigned", 201), result
            assert result["message"] in ("created", "updated")


# ----------------------------------------------------------------------------------------- create-missing
@only_on("duckdb", "woku_warehouse")
def test_create_missing_creates_each_absent_definition_once(workdir: Path, woku_warehouse, start_woku) -> None:
    company = small_company(22)
    nps_id, woku_id, flow_id = company.ids("nps_tools")[0], company.ids("wokus")[0], company.ids("flows")[0]
    inactive = definitions(company, False)[0]
    rows = [
        ["nps", nps_id, "deal_stage", "won"],
        ["woku", woku_id, "po_number", 4711],
        ["flow", flow_id, "trr", "TX-1"],
        ["woku", woku_id, inactive, "old"],  # inactive: its name is taken, so it is not created, and refused
        ["flow", flow_id, "po_number", "4712"],
    ]
    write_csv(workdir / "values.csv", rows)
    server = start_woku(company)
    # the first create is processed but its answer lost; the retry meets a 503; the next retry replays
    server.inject("lost_answer", "/v1/external-trackers", times=1, method="POST")
    server.inject("503", "/v1/external-trackers", times=1, method="POST")
    args = ["trackers", "--file", "values.csv", "--create-missing", *woku_warehouse.args]

    first = run_cli(args, workdir, woku_env(server), script=SCRIPT)

    assert first.returncode == 6, first.stderr
    assert "created 2 definition(s): deal_stage, po_number" in first.stdout
    stats = server.stats()
    assert stats["trackers_created"] == {"deal_stage": 1, "po_number": 1}
    assert stats["idempotent_replays"] == 1
    assert stats["by_route"]["GET /v1/external-trackers"] == 1, "the catalog is listed once"
    assert company.tracker_by_name(inactive)["active"] is False
    assert value_on_sandbox(company, "woku", woku_id, "po_number") == "4711"
    assert value_on_sandbox(company, "flow", flow_id, "po_number") == "4712"
    assert value_on_sandbox(company, "nps", nps_id, "deal_stage") == "won"
    figures = summary(first.stdout)
    assert (figures["assigned"], figures["rejected"], figures["failed"]) == (4, 1, 0)

    creates = stats["by_route"]["POST /v1/external-trackers"]
    second = run_cli(args, workdir, woku_env(server), script=SCRIPT)
    assert second.returncode == 6, second.stderr
    assert "created" not in second.stdout.split(";")[1]
    assert server.stats()["by_route"]["POST /v1/external-trackers"] == creates, "a re-run creates nothing"
    assert server.stats()["trackers_created"] == {"deal_stage": 1, "po_number": 1}
    landed = woku_warehouse.read(RESULTS)
    assert len(landed) == 10 and len({r["_dlt_load_id"] for r in landed}) == 2, "each run appends its rows"
    refused = [r for r in landed if r["status"] == "rejected"]
    assert {(r["row_number"], r["http_status"]) for r in refused} == {(4, 400)}


# ---------------------------------------------------------------------------------------------- dry run
@only_on("duckdb", "woku_warehouse")
def test_dry_run_sends_nothing_and_writes_nothing(workdir: Path, woku_warehouse, start_woku) -> None:
    company = small_company(23)
    nps_id, woku_id = company.ids("nps_tools")[0], company.ids("wokus")[0]
    rows = [["nps", nps_id, "trr", "TX-1"], ["woku", woku_id, "brand_new", 7], ["flow", "abc", "trr", "x"]]
    write_csv(workdir / "values.csv", rows)
    server = start_woku(company)
    args = ["trackers", "--file", "values.csv", "--create-missing", "--dry-run", *woku_warehouse.args]

    done = run_cli(args, workdir, woku_env(server), script=SCRIPT)

    assert done.returncode == 6, done.stderr
    out = done.stdout
    assert f'row 1: POST /v1/external-trackers/nps/{nps_id} {{"name": "trr", "value": "TX-1"}}' in out
    assert f'row 2: POST /v1/external-trackers/wokus/{woku_id} {{"name": "brand_new", "value": "7"}}' in out
    assert "row 3: invalid: entity_id 'abc' is not a 24-hex ObjectId" in out
    assert "definitions would create: brand_new" in out
    assert "3 rows: 2 valid, 1 invalid; nothing sent, nothing written" in out
    stats = server.stats()
    assert not [route for route in stats["by_route"] if not route.startswith("GET ")], stats["by_route"]
    assert company.tracker_by_name("brand_new") is None
    assert nothing_written(woku_warehouse, workdir)

    write_csv(workdir / "valid.csv", rows[:2])
    valid = run_cli(
        ["trackers", "--file", "valid.csv", "--dry-run", *woku_warehouse.args], workdir, woku_env(server), script=SCRIPT
    )
    assert valid.returncode == 0, valid.stderr
    assert "definitions absent (rows rejected unless --create-missing): brand_new" in valid.stdout
    assert nothing_written(woku_warehouse, workdir)


# ------------------------------------------------------------------------------------------- from a table
def test_from_table_reads_the_warehouse(workdir: Path, woku_warehouse, start_woku) -> None:
    company = small_company(24)
    targets = entities(company)[:8]
    # an analyst's join: numbers as numbers, an extra column, and a name that needs no creating
    data = [(etype, rid, "crm_deal_id", 900_000 + i, "owner") for i, (etype, rid) in enumerate(targets)]
    if woku_warehouse.name == "duckdb":
        schema = "crm"
        with duckdb.connect(str(workdir / "feedback.duckdb")) as con:
            con.execute("CREATE SCHEMA crm")
            con.execute(
                "CREATE TABLE crm.deal_trackers (entity_type VARCHAR, entity_id VARCHAR, name VARCHAR,"
                " value BIGINT, owner VARCHAR)"
            )
            con.executemany("INSERT INTO crm.deal_trackers VALUES (?, ?, ?, ?, ?)", data)
    else:
        schema = dataset_of(woku_warehouse)  # dropped with the dataset after the test
        with psycopg2.connect(PG_DSN) as con, con.cursor() as cur:
            cur.execute(f'CREATE SCHEMA "{schema}"')
            cur.execute(
                f'CREATE TABLE "{schema}".deal_trackers (entity_type text, entity_id text, name text,'
                " value bigint, owner text)"
            )
            cur.executemany(f'INSERT INTO "{schema}".deal_trackers VALUES (%s, %s, %s, %s, %s)', data)
    server = start_woku(company)
    env = woku_env(server)

    done = run_cli(
        ["trackers", "--from-table", f"{schema}.deal_trackers", *woku_warehouse.args], workdir, env, script=SCRIPT
    )

    assert done.returncode == 0, done.stderr
    assert summary(done.stdout)["assigned"] == len(data)
    for etype, rid, name, value, _ in data:
        assert value_on_sandbox(company, etype, rid, name) == str(value)
    landed = sorted(woku_warehouse.read(RESULTS), key=lambda r: r["row_number"])
    assert [(r["row_number"], r["entity_id"], r["status"]) for r in landed] == [
        (n, rid, "assigned") for n, (_, rid, *_) in enumerate(data, 1)
    ]

    missing = run_cli(["trackers", "--from-table", f"{schema}.nope", *woku_warehouse.args], workdir, env, script=SCRIPT)
    assert missing.returncode == 2
    assert_one_error_line(missing, f"no table or view {schema}.nope")


# ------------------------------------------------------------------------------------------- failures
def test_rows_without_an_answer_are_failed_and_the_rest_go_on(workdir: Path, start_woku) -> None:
    company = small_company(25)
    ids = company.ids("csat_tools") + company.ids("forms")
    rows = [["csat", ids[0], "trr", "a"], ["csat", ids[1], "trr", "b"], ["form", ids[2], "trr", "c"]]
    write_csv(workdir / "values.csv", rows)
    server = start_woku(company)
    server.inject("503", f"/v1/external-trackers/csat/{ids[1]}", times=5, method="POST")
    env = woku_env(server, SOURCES__WOKU__MAX_RETRIES="2")

    done = run_cli(["trackers", "--file", "values.csv"], workdir, env, script=SCRIPT)

    assert done.returncode == 6, done.stderr
    figures = summary(done.stdout)
    assert (figures["assigned"], figures["rejected"], figures["failed"]) == (2, 0, 1)
    assert "row 2: failed: failed after 2 attempts: HTTP 503" in done.stderr
    assert value_on_sandbox(company, "form", ids[2], "trr") == "c"
    landed = {r["row_number"]: r for r in duckdb_rows(workdir)}
    assert (landed[2]["status"], landed[2]["http_status"]) == ("failed", 503)


def duckdb_rows(workdir: Path) -> List[Dict[str, Any]]:
    with duckdb.connect(str(workdir / "feedback.duckdb"), read_only=True) as con:
        cur = con.execute(f"SELECT * FROM woku.{RESULTS}")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def test_a_bad_api_key_ends_in_one_line_without_the_key(workdir: Path, start_woku) -> None:
    company = small_company(26)
    write_csv(workdir / "values.csv", [["nps", company.ids("nps_tools")[0], "trr", "x"]])
    server = start_woku(company)
    secret = "sk_live_wrong_key_never_printed"
    env = woku_env(server, SOURCES__WOKU__CREDENTIALS__API_KEY=secret)

    done = run_cli(["trackers", "--file", "values.csv"], workdir, env, script=SCRIPT)

    assert done.returncode == 3
    assert_one_error_line(done, "rejected")
    assert secret not in done.stdout + done.stderr
    assert not (workdir / "feedback.duckdb").exists(), "nothing was assigned, so nothing is recorded"


INPUT_ERRORS = {
    "missing file": (["--file", "absent.csv"], "--file absent.csv: no such file"),
    "extra column": (["--file", "extra.csv"], "expected exactly entity_type,entity_id,name,value"),
    "missing column": (["--file", "short.csv"], "expected exactly entity_type,entity_id,name,value"),
    "empty file": (["--file", "empty.csv"], "is empty"),
    "no input": ([], "exactly one of --file F or --from-table SCHEMA.TABLE"),
    "both inputs": (["--file", "short.csv", "--from-table", "a.b"], "exactly one of"),
    "bad table name": (["--from-table", "crm.x; DROP TABLE y"], "is not SCHEMA.TABLE"),
}


@pytest.mark.parametrize("case", list(INPUT_ERRORS))
def test_bad_input_ends_in_one_line(case: str, workdir: Path, start_woku) -> None:
    server = start_woku(small_company(27))
    write_csv(workdir / "extra.csv", [], header=[*HEADER, "owner"])
    write_csv(workdir / "short.csv", [], header=HEADER[:3])
    (workdir / "empty.csv").write_text("")
    args, expected = INPUT_ERRORS[case]

    done = run_cli(["trackers", *args], workdir, woku_env(server), script=SCRIPT)

    assert done.returncode == 2, done.stderr
    assert_one_error_line(done, expected)
    assert server.stats()["requests"] == 0
