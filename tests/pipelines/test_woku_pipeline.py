"""End to end: `woku_pipeline.py` over loopback HTTP against the Woku sandbox, into real DuckDB and
PostgreSQL, checked record by record against the sandbox's ground truth."""

import json
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, List

import pytest

from sandbox.woku import generate_company
from tests.conftest import WITH_BIGQUERY, only_on, run_cli, woku_env
from tests.support.warehouse import json_value

#: table -> (truth kinds, fields compared: warehouse column -> path in the API record)
TABLES: Dict[str, Any] = {
    "nps_responses": (("nps_responses",), {"score": "score", "client_id": "clientId", "nps_tool_id": "npsToolId"}),
    "csat_responses": (("csat_responses",), {"score": "score", "csat_tool_id": "csatToolId"}),
    "ces_responses": (("ces_responses",), {"score": "score", "ces_tool_id": "cesToolId"}),
    "woku_reviews": (
        ("woku_reviews",),
        {"woku_id": "wokuId", "type": "type", "qualification": "qualification", "description": "description"},
    ),
    "form_responses": (("form_responses",), {"form_id": "formId", "client_id": "clientId"}),
    "wokus": (("wokus",), {"description": "description", "closed": "closed"}),
    "forms": (("forms",), {"name": "name", "active": "active"}),
    "flows": (("flows",), {"name": "name"}),
    "nps_tools": (("nps_tools",), {"name": "name"}),
    "csat_tools": (("csat_tools",), {"name": "name"}),
    "ces_tools": (("ces_tools",), {"name": "name"}),
    "external_tracker_definitions": (("external_tracker_definitions",), {"name": "name", "active": "active"}),
    "external_tracker_values": (
        ("external_tracker_values", "woku_tracker_values"),
        {"value": "value", "tracker_id": "trackerId"},
    ),
}
TEXT_NOTE = {"nps_responses", "csat_responses", "ces_responses"}


def instant(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def assert_table_exact(table: str, company: Any, rows: List[Dict[str, Any]], account: str = "default") -> None:
    kinds, fields = TABLES[table]
    truth = {rec["_id"]: rec for kind in kinds for rec in company.truth(kind)}
    ids = Counter(row["_id"] for row in rows)
    assert not [i for i, n in ids.items() if n > 1], f"{table}: duplicated ids"
    assert set(ids) == set(truth), f"{table}: missing {len(set(truth) - set(ids))}, extra {len(set(ids) - set(truth))}"
    for row in rows:
        want = truth[row["_id"]]
        assert row["account"] == account
        assert instant(row["created_at"]) == instant(want["createdAt"]), (table, row["_id"])
        if "updatedAt" in want:
            assert instant(row["updated_at"]) == instant(want["updatedAt"]), (table, row["_id"], "updated_at")
        for column, key in fields.items():
            assert row.get(column) == want.get(key), (table, row["_id"], column, row.get(column), want.get(key))
        if table in TEXT_NOTE:
            note = (want.get("textnote") or {}).get("description")
            assert row.get("textnote__description") == note, (table, row["_id"], "textnote")
        if table == "form_responses":
            assert json_value(row["answers"]) == want["answers"], (table, row["_id"], "answers")


def assert_exact(company: Any, read) -> None:
    for table in TABLES:
        assert_table_exact(table, company, read(table))


@pytest.mark.parametrize("woku_warehouse", WITH_BIGQUERY, indirect=True)
def test_full_then_incremental_sync_is_exact(workdir: Path, woku_warehouse, start_woku) -> None:
    company = generate_company(seed=51, nps_responses=1200, reviews=500, form_responses=260)
    server = start_woku(company)
    env = woku_env(server)

    first = run_cli([*woku_warehouse.args], workdir, env, script="woku_pipeline.py")
    assert first.returncode == 0, first.stderr
    assert_exact(company, woku_warehouse.read)
    # every list is read to its end and no further: ceil(total / 100) pages
    by_route = server.stats()["by_route"]
    assert by_route["GET /v1/nps"] == 12 and by_route["GET /v1/csat"] == 3

    # new records, and a text note added to a 3-day-old response (inside the 7-day look-back)
    now = datetime.now(timezone.utc)
    old = company.add_responses("nps", 1, at=now - timedelta(days=3))[0]
    company.add_responses("nps", 30)
    company.add_responses("ces", 12)
    company.add_reviews(20)
    company.add_form_responses(9)
    note = {"description": "added later", "createdAt": now.strftime("%Y-%m-%dT%H:%M:%S.000Z")}
    company.update_records("nps_responses", [old["_id"]], textnote=note)
    server.reset_stats()
    second = run_cli([*woku_warehouse.args], workdir, env, script="woku_pipeline.py")
    assert second.returncode == 0, second.stderr
    assert_exact(company, woku_warehouse.read)
    edited = [r for r in woku_warehouse.read("nps_responses") if r["_id"] == old["_id"]]
    assert edited[0]["textnote__description"] == "added later"
    # the incremental run reads the newest week only: one page per survey, not the history
    assert server.stats()["by_route"]["GET /v1/nps"] == 1


@only_on("duckdb", "woku_warehouse")
def test_faults_are_retried_and_nothing_is_lost(workdir: Path, woku_warehouse, start_woku) -> None:
    company = generate_company(seed=52, nps_responses=900, reviews=300)
    server = start_woku(company)
    server.inject("503", "/v1/nps", times=3)
    server.inject("429", "/v1/wokus", times=2, seconds=1)
    server.inject("reset", "/v1/csat", times=2)
    server.inject("truncated", "/v1/forms", times=1)
    result = run_cli([*woku_warehouse.args], workdir, woku_env(server), script="woku_pipeline.py")
    assert result.returncode == 0, result.stderr
    assert_exact(company, woku_warehouse.read)
    assert sum(server.stats()["faults"].values()) == 8
    assert "retry" in result.stderr and server.api_key not in result.stderr


def test_feedback_all_spans_both_vendors(workdir: Path, start_woku, start_sandbox) -> None:
    from sandbox.wootric import generate_account
    from tests.conftest import sandbox_env
    from tests.support.warehouse import read_duckdb

    company = generate_company(seed=53, nps_responses=200, reviews=120)
    woku = start_woku(company)
    account = generate_account(seed=54, end_users=40, responses=260, declines=5)
    wootric = start_sandbox(account)
    env = {**woku_env(woku), **sandbox_env(wootric)}
    for script in ("woku_pipeline.py", "wootric_pipeline.py"):
        result = run_cli([], workdir, env, script=script)
        assert result.returncode == 0, result.stderr
    rows = read_duckdb(workdir / "feedback.duckdb", "woku", "feedback_all")
    by_kind = Counter((r["vendor"], r["kind"]) for r in rows)
    assert by_kind == {
        ("wootric", "nps"): account.count("responses"),
        ("woku", "nps"): company.count("nps_responses"),
        ("woku", "csat"): company.count("csat_responses"),
        ("woku", "ces"): company.count("ces_responses"),
        ("woku", "woku_review"): company.count("woku_reviews"),
    }
    emails = {u["id"]: u["email"] for u in account.truth("end_users")}
    wootric_truth = {str(r["id"]): r for r in account.truth("responses")}
    reviews = {r["_id"]: r for r in company.truth("woku_reviews")}
    for row in rows:
        assert row["created_at"].tzinfo is not None
        if row["vendor"] == "wootric":
            want = wootric_truth[row["response_id"]]
            assert (row["score"], row["scale"], row["text"] or None) == (want["score"], "0-10", want["text"] or None)
            assert row["respondent_email"] == emails[want["end_user_id"]]
            assert instant(row["created_at"]) == want["created_at"]
        else:
            assert row["respondent_email"] is None  # the Woku API exposes only a clientId
        if row["kind"] == "woku_review":
            want = reviews[row["response_id"]]
            assert row["score"] == want["qualification"] and row["scale"] == "1-5"
            assert row["text"] == (want["description"] or want["transcription"])


def test_demo_syncs_the_sandbox_offline_and_checks_it(workdir: Path) -> None:
    result = run_cli(["--demo"], workdir, {}, script="woku_pipeline.py")
    assert result.returncode == 0, result.stderr
    checks = [line for line in result.stdout.splitlines() if " served " in line]
    assert len(checks) == 10 and all("missing 0  duplicated 0" in line for line in checks), result.stdout
    assert "feedback_all" in result.stdout
    assert "themes: default " in result.stdout and "themes: comment_themes" in result.stdout


def test_bad_or_missing_api_key_is_one_line(workdir: Path, start_woku) -> None:
    server = start_woku(generate_company(seed=55, nps_responses=5))
    bad = run_cli(
        [], workdir, woku_env(server, SOURCES__WOKU__CREDENTIALS__API_KEY="sk_wrong_key_123"), script="woku_pipeline.py"
    )
    assert bad.returncode == 3, bad.stderr
    assert bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr and "sk_wrong_key_123" not in bad.stderr
    env = woku_env(server)
    del env["SOURCES__WOKU__CREDENTIALS__API_KEY"]
    missing = run_cli([], workdir, env, script="woku_pipeline.py")
    assert missing.returncode == 2 and "SOURCES__WOKU__CREDENTIALS__API_KEY" in missing.stderr, missing.stderr
    assert missing.stderr.count("\n") == 1


def test_resources_and_bad_settings(workdir: Path, start_woku) -> None:
    server = start_woku(generate_company(seed=56, nps_responses=30))
    only = run_cli(["--resources", "nps_responses,wokus"], workdir, woku_env(server), script="woku_pipeline.py")
    assert only.returncode == 0, only.stderr
    assert "nps_responses" in only.stdout and "csat_responses" not in only.stdout
    unknown = run_cli(["--resources", "nps"], workdir, woku_env(server), script="woku_pipeline.py")
    assert unknown.returncode == 2 and "unknown nps" in unknown.stderr
    bad_url = run_cli([], workdir, woku_env(server, SOURCES__WOKU__BASE_URL="ftp://x"), script="woku_pipeline.py")
    assert bad_url.returncode == 2 and "sources.woku.base_url" in bad_url.stderr
    json.dumps(server.stats())  # the sandbox stayed healthy


@only_on("duckdb", "woku_warehouse")
def test_reviews_and_form_responses_of_parents_on_later_pages_are_all_read(
    workdir: Path, woku_warehouse, start_woku
) -> None:
    """dlt calls the transformer once per page of wokus (or forms): every page must use the floor
    from before the run, not the newest review an earlier page has just loaded."""
    company = generate_company(seed=57, wokus=17, reviews=260, forms=11, form_responses=180, span_days=300)
    server = start_woku(company, max_limit=5)  # 4 pages of wokus, 3 of forms
    # fifo: dlt finishes each page's transformer call before it starts the next (round robin may not)
    env = woku_env(server, EXTRACT__NEXT_ITEM_MODE="fifo")
    for _ in range(2):
        result = run_cli([*woku_warehouse.args], workdir, env, script="woku_pipeline.py")
        assert result.returncode == 0, result.stderr
        for table in ("woku_reviews", "form_responses", "wokus", "forms"):
            assert_table_exact(table, company, woku_warehouse.read(table))
        company.add_reviews(12)
        company.add_form_responses(7)
