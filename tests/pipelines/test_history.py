"""End to end: the opt-in edit history (`responses_history`, dlt's scd2) through the CLI, against the
sandboxes' ground truth, on DuckDB and PostgreSQL."""

from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, List

import requests

from sandbox.woku import generate_company
from sandbox.wootric import generate_account
from tests.conftest import only_on, run_cli, sandbox_env, woku_env
from tests.support.summary import loaded
from tests.support.warehouse import json_value

TRACKED = ("score", "text", "tags", "excluded_from_calculations", "completed")


def versions_by_key(rows: List[Dict[str, Any]], key: str) -> Dict[Any, List[Dict[str, Any]]]:
    """History rows per record, oldest version first."""
    out: Dict[Any, List[Dict[str, Any]]] = defaultdict(list)
    for row in rows:
        out[row[key]].append(row)
    for versions in out.values():
        versions.sort(key=lambda r: r["valid_from"])
    return out


def admin_edit(server: Any, body: Dict[str, Any]) -> None:
    """Edit records through the sandbox's admin route, as an operator of the vendor would."""
    answer = requests.post(f"{server.url}/_sandbox/mutate", json=body, timeout=10)
    assert answer.status_code == 200, answer.text


def tracked(row: Dict[str, Any]) -> tuple:
    return tuple(json_value(row[f]) if f == "tags" else row[f] for f in TRACKED)


def test_wootric_response_edited_twice_has_three_versions(workdir: Path, warehouse, start_sandbox) -> None:
    account = generate_account(seed=41, end_users=50, responses=400, declines=10)
    server = start_sandbox(account)
    env = sandbox_env(server, SOURCES__WOOTRIC__HISTORY="true")
    by_created = sorted(account.truth("responses"), key=lambda r: r["created_at"])
    newest = by_created[-1]["created_at"]
    edited = next(r for r in reversed(by_created) if 1 <= (newest - r["created_at"]).days <= 5)
    done = run_cli(warehouse.args, workdir, env)
    assert done.returncode == 0, done.stderr
    assert loaded(done.stdout, ["responses", "responses_history"]) == {"responses": 400, "responses_history": 400}

    edits = [
        {"text": "first edit", "tags": ["EDITED"], "completed": True},
        {"text": "second edit", "excluded_from_calculations": not edited["excluded_from_calculations"]},
    ]
    for fields in edits:
        admin_edit(server, {"update_responses": {"ids": [edited["id"]], "fields": fields}})
        done = run_cli(warehouse.args, workdir, env)
        assert done.returncode == 0, done.stderr
        assert loaded(done.stdout, ["responses", "responses_history"]) == {"responses": 1, "responses_history": 1}

    history = versions_by_key(warehouse.read("responses_history"), "id")
    responses = {row["id"]: row for row in warehouse.read("responses")}
    assert set(history) == set(responses) == {r["id"] for r in account.truth("responses")}
    versions = history[edited["id"]]
    assert [v["text"] for v in versions] == [edited["text"], "first edit", "second edit"]
    assert [v["valid_to"] is None for v in versions] == [False, False, True]
    assert versions[0]["valid_to"] == versions[1]["valid_from"] and versions[1]["valid_to"] == versions[2]["valid_from"]
    assert json_value(versions[1]["tags"]) == ["EDITED"] and versions[1]["completed"] is True
    for rid, rows in history.items():
        if rid != edited["id"]:
            assert len(rows) == 1 and rows[0]["valid_to"] is None, f"response {rid} has {len(rows)} versions"
        current = [r for r in rows if r["valid_to"] is None]
        assert len(current) == 1 and tracked(current[0]) == tracked(responses[rid]), f"response {rid}"
        assert current[0]["account"] == responses[rid]["account"] == "default"


def test_history_costs_no_request_and_is_opt_in(workdir: Path, start_sandbox) -> None:
    """The same sync with and without history asks the API exactly the same requests; without the
    setting there is no history table; `--resources responses_history` brings `responses` along."""
    account = generate_account(seed=42, end_users=60, responses=700, declines=30)
    server = start_sandbox(account)
    plain = run_cli(["--dataset-name", "plain", "--pipeline-name", "plain"], workdir, sandbox_env(server))
    assert plain.returncode == 0, plain.stderr
    assert "responses_history" not in plain.stdout
    without = server.stats()["by_path"]
    server.reset_stats()
    args = ["--dataset-name", "kept", "--pipeline-name", "kept", "--resources", "responses_history"]
    done = run_cli(args, workdir, sandbox_env(server))
    assert done.returncode == 0, done.stderr
    assert loaded(done.stdout, ["responses", "responses_history"]) == {"responses": 700, "responses_history": 700}
    with_history = server.stats()["by_path"]
    print(
        f"requests to /v1/responses: {without['/v1/responses']} without history, {with_history['/v1/responses']} with"
    )
    assert with_history["/v1/responses"] == without["/v1/responses"]
    assert "/v1/end_users" not in with_history and "/v1/declines" not in with_history  # only what was named


@only_on("duckdb", "woku_warehouse")
def test_woku_edits_are_versions_and_rereads_are_not(workdir: Path, woku_warehouse, start_woku) -> None:
    """The look-back re-reads a week of responses on every run: unchanged ones keep one version."""
    company = generate_company(seed=43, nps_responses=300, reviews=20, form_responses=20)
    server = start_woku(company)
    env = woku_env(server, SOURCES__WOKU__HISTORY="true")
    args = [*woku_warehouse.args, "--resources", "nps_responses_history"]
    done = run_cli(args, workdir, env, script="woku_pipeline.py")
    assert done.returncode == 0, done.stderr
    truth = sorted(company.truth("nps_responses", iso=True), key=lambda r: r["createdAt"])
    edited = truth[-3]["_id"]
    for fields in (
        {"score": 0, "textnote": {"description": "late note", "createdAt": truth[-3]["createdAt"]}},
        {"score": 10},
    ):
        admin_edit(server, {"update": {"kind": "nps_responses", "ids": [edited], "fields": fields}})
        done = run_cli(args, workdir, env, script="woku_pipeline.py")
        assert done.returncode == 0, done.stderr

    history = versions_by_key(woku_warehouse.read("nps_responses_history"), "_id")
    current = {row["_id"]: row for row in woku_warehouse.read("nps_responses")}
    assert set(history) == set(current) == {r["_id"] for r in truth}
    versions = history[edited]
    assert [v["score"] for v in versions] == [truth[-3]["score"], 0, 10]
    assert [v["textnote__description"] for v in versions][1:] == ["late note", "late note"]
    for rid, rows in history.items():
        if rid != edited:
            assert len(rows) == 1, f"response {rid} has {len(rows)} versions after runs that re-read it"
        now = [r for r in rows if r["valid_to"] is None]
        assert len(now) == 1
        assert (now[0]["score"], now[0]["textnote__description"]) == (
            current[rid]["score"],
            current[rid].get("textnote__description"),
        )


@only_on("postgres")
def test_verify_repair_writes_history_as_a_sync_would(workdir: Path, warehouse, start_sandbox) -> None:
    """Issue 19: responses edited outside the look-back window and repaired by `verify --repair` get a
    new current version in `responses_history`, and the others keep their one version."""
    account = generate_account(seed=43, end_users=40, responses=300, declines=10, span_days=120)
    server = start_sandbox(account)
    env = sandbox_env(server, SOURCES__WOOTRIC__HISTORY="true")
    assert run_cli(warehouse.args, workdir, env).returncode == 0
    by_created = sorted(account.truth("responses"), key=lambda r: r["created_at"])
    old = [r for r in by_created[:100] if not r["excluded_from_calculations"] and r["score"] is not None][:3]
    admin_edit(
        server,
        {
            "update_responses": {
                "ids": [r["id"] for r in old],
                "fields": {"excluded_from_calculations": True, "text": "repaired"},
            }
        },
    )
    assert run_cli(warehouse.args, workdir, env).returncode == 0  # months old: the look-back misses them

    repaired = run_cli(["verify", "--repair", *warehouse.args], workdir, env)

    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    history = versions_by_key(warehouse.read("responses_history"), "id")
    responses = {row["id"]: row for row in warehouse.read("responses")}
    for r in old:
        versions = history[r["id"]]
        assert [v["text"] for v in versions] == [r["text"], "repaired"], versions
        assert [v["valid_to"] is None for v in versions] == [False, True]
    for rid, rows in history.items():
        current = [row for row in rows if row["valid_to"] is None]
        assert len(current) == 1 and tracked(current[0]) == tracked(responses[rid]), f"response {rid}"
        assert len(rows) == (2 if rid in {r["id"] for r in old} else 1), f"response {rid}"
