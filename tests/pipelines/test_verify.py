"""`verify` end to end against the sandboxes, on DuckDB and PostgreSQL: two Wootric accounts, one of
them changed behind the connector's back (7 responses deleted, 3 old ones edited outside the
look-back window) and one of its months truncated in the warehouse; and a Woku company with a
deleted response."""

import re
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Set, Tuple

import duckdb
import psycopg2
import requests

from sandbox.woku import generate_company
from sandbox.wootric import generate_account
from tests.conftest import only_on, run_cli, woku_env
from tests.pipelines.test_wootric_accounts import accounts_env
from tests.support.warehouse import PG_DSN

EXIT_MISMATCH = 9
DIFFERS = re.compile(r"^differs: (\S+) (\S+) (\d{4}-\d{2}) ", re.MULTILINE)


def execute(warehouse: Any, workdir: Path, statement: str) -> List[Tuple[Any, ...]]:
    """One statement in the test's warehouse (DuckDB file or the Postgres schema), as an operator would."""
    if warehouse.name == "duckdb":
        with duckdb.connect(str(workdir / "feedback.duckdb")) as con:
            cur = con.execute(statement.format(ds=DATASETS["duckdb"]))
            return cur.fetchall() if cur.description else []
    dataset = warehouse.args[warehouse.args.index("--dataset-name") + 1]
    with psycopg2.connect(PG_DSN) as con, con.cursor() as cur:
        cur.execute(statement.format(ds=dataset))
        return cur.fetchall() if cur.description else []


DATASETS = {"duckdb": "wootric"}


def differing(stdout: str) -> Set[Tuple[str, str, str]]:
    """(account, table, month) of every `differs:` line."""
    return set(DIFFERS.findall(stdout))


def month_ids(records: List[Dict[str, Any]], month: int, counted: bool) -> List[int]:
    return [
        r["id"]
        for r in records
        if r["created_at"].month == month
        and r["created_at"].year == 2023
        and (not counted or not r["excluded_from_calculations"])
    ]


def test_verify_names_the_months_and_repair_restores_them(workdir: Path, warehouse, start_sandbox) -> None:
    acme = generate_account(seed=41, end_users=80, responses=1500, declines=80, span_days=150)
    globex = generate_account(seed=42, end_users=60, responses=600, declines=50, span_days=150)
    servers = {"acme": start_sandbox(acme), "globex": start_sandbox(globex)}
    env = accounts_env(servers)
    assert run_cli([*warehouse.args], workdir, env).returncode == 0

    clean = run_cli(["verify", *warehouse.args], workdir, env)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "every month matches" in clean.stdout and not differing(clean.stdout)
    # one request per account and month (5 months each), plus a token each
    assert sum(s.stats()["by_path"].get("/v1/nps_summary", 0) for s in servers.values()) == 10

    responses = acme.truth("responses")
    gone = month_ids(responses, 2, counted=True)[:7]
    edited = month_ids(responses, 3, counted=True)[:3]
    # through the sandbox's admin route; the responses are months old: outside the look-back window
    changed = requests.post(
        f"{servers['acme'].url}/_sandbox/mutate",
        json={
            "delete": {"kind": "responses", "ids": gone},
            "update_responses": {"ids": edited, "fields": {"excluded_from_calculations": True}},
        },
    )
    assert changed.status_code == 200, changed.text
    truncated = month_ids(responses, 4, counted=False)
    execute(
        warehouse,
        workdir,
        "DELETE FROM {ds}.responses WHERE account = 'acme'"
        " AND created_at >= '2023-04-01 00:00:00+00' AND created_at < '2023-05-01 00:00:00+00'",
    )
    # an ordinary incremental run sees none of it
    assert run_cli([*warehouse.args], workdir, env).returncode == 0

    found = run_cli(["verify", *warehouse.args], workdir, env)
    assert found.returncode == EXIT_MISMATCH, found.stdout + found.stderr
    assert differing(found.stdout) == {("acme", "responses", m) for m in ("2023-02", "2023-03", "2023-04")}

    deep = run_cli(["verify", "--deep", "--months", "2023-02..2023-04", *warehouse.args], workdir, env)
    assert deep.returncode == EXIT_MISMATCH
    assert f"the warehouse holds, the API lacks (7): {', '.join(map(str, sorted(gone)))}" in deep.stdout
    assert f"the API holds, the warehouse lacks ({len(truncated)})" in deep.stdout

    state_before = pipeline_state(warehouse, workdir, "wootric-acme")
    assert state_before
    repaired = run_cli(["verify", "--repair", *warehouse.args], workdir, env)
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert "7 marked deleted" in repaired.stdout
    assert pipeline_state(warehouse, workdir, "wootric-acme") == state_before  # the account's state untouched

    rows = {r["id"]: r for r in warehouse.read("responses") if r["account"] == "acme"}
    assert {i for i, r in rows.items() if r["deleted_at"] is not None} == set(gone)
    assert all(rows[i]["excluded_from_calculations"] for i in edited)
    assert set(truncated) <= set(rows)
    assert {i for i, r in rows.items() if r["deleted_at"] is None} == {r["id"] for r in acme.truth("responses")}

    again = run_cli(["verify", *warehouse.args], workdir, env)
    assert again.returncode == 0, again.stdout
    # the views count what the API counts, month by month, again
    monthly = {(r["account"], r["month"]): r for r in warehouse.read("nps_monthly")}
    for name, account in (("acme", acme), ("globex", globex)):
        for month in range(1, 6):
            first, last = date(2023, month, 1), date(2023, month + 1, 1).replace(day=1)
            api = account.nps_summary(first, date.fromordinal(last.toordinal() - 1))
            view = monthly.get((name, first))
            assert view is not None and (view["responses"], view["promoters"], view["detractors"], view["nps"]) == (
                api["responses"],
                api["promoters"],
                api["detractors"],
                api["nps"],
            ), (name, month)
    assert not {r["response_id"] for r in warehouse.read("feedback") if r["account"] == "acme"} & set(gone)

    recorded = warehouse.read("reconciliation")
    assert {(r["account"], r["month"]) for r in recorded if r["difference"] != 0 and not r["after_repair"]} == {
        ("acme", date(2023, m, 1)) for m in (2, 3, 4)
    }
    # the sync's full refresh drops its own tables, not the verify's
    assert run_cli(["--full-refresh", *warehouse.args], workdir, env).returncode == 0
    assert len(warehouse.read("reconciliation")) == len(recorded)


def pipeline_state(warehouse: Any, workdir: Path, pipeline: str) -> List[Tuple[Any, ...]]:
    return execute(
        warehouse,
        workdir,
        f"SELECT version, engine_version, state FROM {{ds}}._dlt_pipeline_state WHERE pipeline_name = '{pipeline}'"
        " ORDER BY version",
    )


@only_on("duckdb", "woku_warehouse")
def test_woku_verify_finds_and_repairs_a_deleted_response(workdir: Path, woku_warehouse, start_woku) -> None:
    company = generate_company(8, nps_responses=400, csat_responses=60, ces_responses=60, reviews=10, span_days=120)
    server = start_woku(company)
    env = woku_env(server)
    assert run_cli([*woku_warehouse.args], workdir, env, script="woku_pipeline.py").returncode == 0
    clean = run_cli(["verify", *woku_warehouse.args], workdir, env, script="woku_pipeline.py")
    assert clean.returncode == 0, clean.stdout + clean.stderr

    target = company.truth("nps_responses")[50]
    month = target["createdAt"].strftime("%Y-%m")
    company.delete_records("nps_responses", [target["_id"]])
    found = run_cli(["verify", *woku_warehouse.args], workdir, env, script="woku_pipeline.py")
    assert found.returncode == EXIT_MISMATCH, found.stdout + found.stderr
    assert differing(found.stdout) == {("default", "nps_responses", month)}

    repaired = run_cli(["verify", "--repair", *woku_warehouse.args], workdir, env, script="woku_pipeline.py")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    rows = {r["_id"]: r for r in woku_warehouse.read("nps_responses")}
    assert [i for i, r in rows.items() if r["deleted_at"] is not None] == [target["_id"]]
    assert run_cli(["verify", *woku_warehouse.args], workdir, env, script="woku_pipeline.py").returncode == 0
    first = datetime.strptime(month, "%Y-%m").replace(tzinfo=timezone.utc).date()
    view = {r["month"]: r["responses"] for r in woku_warehouse.read("woku_nps_monthly")}
    in_month = [r for r in company.truth("nps_responses") if r["createdAt"].strftime("%Y-%m") == month]
    assert view[first] == len([r for r in in_month if r.get("score") is not None])


def test_an_account_never_loaded_is_stale_and_one_refused_does_not_stop_the_others(
    workdir: Path, start_sandbox
) -> None:
    """Issue 19: three accounts, one never loaded (its secret is wrong from the start): `status --max-age`
    calls it stale and `verify` says it could not check it. Then another account's secret goes wrong:
    `verify --repair` still repairs the account that differs, and ends with exit 3 naming the refused one."""
    accounts = {
        name: generate_account(seed=seed, end_users=30, responses=200, declines=20, span_days=90)
        for name, seed in (("acme", 71), ("globex", 72), ("initech", 73))
    }
    servers = {name: start_sandbox(account) for name, account in accounts.items()}
    env = accounts_env(servers)
    env["SOURCES__WOOTRIC__INITECH__CREDENTIALS__CLIENT_SECRET"] = "wrong-secret"
    synced = run_cli([], workdir, env)
    assert synced.returncode == 3, synced.stdout + synced.stderr

    status = run_cli(["status", "--max-age", "1h"], workdir, env)
    assert status.returncode == 8, status.stdout + status.stderr
    stale = [line for line in status.stdout.splitlines() if line.startswith("stale:")]
    assert stale == ["stale: initech: never loaded (more than 1h)"], status.stdout
    assert "reconciliation" not in status.stdout

    unchecked = run_cli(["verify"], workdir, env)
    assert unchecked.returncode == 8, unchecked.stdout + unchecked.stderr
    assert "initech: never loaded into duckdb dataset 'wootric': not checked" in unchecked.stdout
    listed = run_cli(["status"], workdir, env).stdout.splitlines()
    tables = {line.split()[1] for line in listed if line.startswith("  acme")}
    assert "reconciliation" not in tables and "responses" in tables, listed

    counted = [r for r in accounts["acme"].truth("responses") if not r["excluded_from_calculations"]]
    for response in counted[len(counted) // 2 : len(counted) // 2 + 2]:
        accounts["acme"].delete("responses", response["id"])
    env["SOURCES__WOOTRIC__GLOBEX__CREDENTIALS__CLIENT_SECRET"] = "wrong-too"
    repaired = run_cli(["verify", "--repair"], workdir, env)
    assert repaired.returncode == 3, repaired.stdout + repaired.stderr
    errors = [line for line in repaired.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "account 'globex'" in errors[0] and "acme" not in errors[0], repaired.stderr
    assert "wrong-too" not in repaired.stdout + repaired.stderr
    assert "repaired: acme responses" in repaired.stdout, repaired.stdout
