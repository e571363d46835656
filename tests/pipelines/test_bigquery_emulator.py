"""BigQuery end to end on the emulator (tests/support/bigquery.py), each test a few runs (a run on the
emulator costs 10-30 s, mostly its SQL translation): exact backfill and incremental runs with
`responses_history`, every analyst view as on DuckDB and the API's own NPS, `verify --repair`, two
processes loading different accounts into one dataset at once, and the emulator mode's settings.

Not proven here: BigQuery's own concurrency (the emulator runs one statement at a time, so no merge
is ever aborted for a concurrent update; the retry on that error is unit-tested in
tests/pipelines/warehouse/test_bigquery.py), its partitioning and clustering (ignored by the emulator;
asserted in the schema dlt sends, tests/pipelines/test_bigquery.py), quotas and speed.
"""

import math
import subprocess
import uuid
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Dict, List

import pytest
import requests

from analytics.wootric_nps import NEEDS
from sandbox.wootric import generate_account
from tests.analytics.test_nps_by_tag import assert_nps_by_tag
from tests.conftest import _cli, run_cli, sandbox_env, start_cli
from tests.pipelines.test_verify import EXIT_MISMATCH, differing, month_ids
from tests.pipelines.test_wootric_accounts import accounts_env, assert_accounts_exact
from tests.pipelines.test_wootric_pipeline import assert_warehouse_exact
from tests.support import bigquery
from tests.support.summary import loaded
from tests.support.warehouse import json_value, read_duckdb

VIEWS = tuple(NEEDS)
ALL_VIEWS = "nps_daily, nps_monthly, nps_by_segment, feedback, nps_rolling, engagement_monthly, nps_by_tag"
#: the columns that key each view's rows
KEYS = {
    "nps_daily": ("account", "day"),
    "nps_monthly": ("account", "month"),
    "nps_by_segment": ("account", "segment", "value"),
    "nps_rolling": ("account", "day", "window_days"),
    "engagement_monthly": ("account", "month"),
    "feedback": ("account", "response_id"),
    "nps_by_tag": ("account", "month", "tag"),
}


def comparable(value: Any, column: str) -> Any:
    """One value as both warehouses should agree on it: JSON as its value, instants in UTC, floats to 9 places."""
    if column == "tags":
        return json_value(value)
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc)
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 9)
    return value


def by_key(rows: List[Dict[str, Any]], view: str) -> Dict[tuple, Dict[str, Any]]:
    out = {}
    for row in rows:
        key = tuple(row[k] for k in KEYS[view])
        assert key not in out, f"{view}: two rows for {key}"
        out[key] = {c: comparable(v, c) for c, v in row.items()}
    return out


def test_exact_incremental_history_and_every_view_as_on_duckdb(workdir: Path, start_sandbox, bigquery_emulator) -> None:
    """A backfill and an incremental run land exact (ids, values, '' apart from NULL, UTC instants, JSON
    values), `responses_history` keeps each version, and every analyst view holds DuckDB's rows and
    `nps_monthly` the API's NPS."""
    account = generate_account(seed=61, end_users=150, responses=1500, declines=120, span_days=120)
    texts = [r["text"] for r in account.truth("responses")]
    assert texts.count("") > 10 and texts.count(None) > 10
    server = start_sandbox(account)
    dataset = f"bq_{uuid.uuid4().hex[:8]}"
    bq_args = ["--destination", "bigquery", "--dataset-name", dataset]
    env = {**sandbox_env(server), **bigquery.env(bigquery_emulator), "SOURCES__WOOTRIC__HISTORY": "true"}

    def read(table: str) -> List[Dict[str, Any]]:
        return bigquery_emulator.read(dataset, table)

    try:
        for args in (["--destination", "duckdb"], bq_args):
            done = run_cli(args, workdir, {**env, "DLT_DATA_DIR": str(workdir / args[1])})  # a pipeline each
            assert done.returncode == 0, done.stderr
            assert f"analyst views: {ALL_VIEWS}" in done.stdout, done.stdout
        assert_warehouse_exact(account, read)
        for view in VIEWS:
            duck = by_key(read_duckdb(workdir / "feedback.duckdb", "wootric", view), view)
            bq = by_key(read(view), view)
            assert duck and set(bq) == set(duck), f"{view}: rows differ: {sorted(set(bq) ^ set(duck), key=str)[:5]}"
            for key, row in duck.items():
                assert bq[key] == row, f"{view} {key}: BigQuery {bq[key]} vs DuckDB {row}"
        assert_nps_by_tag(read("nps_by_tag"), account.truth("responses"))
        segments = {row["segment"] for row in read("nps_by_segment")}
        assert {"plan", "survey_channel"} <= segments, segments  # JSON properties, not only plain columns
        monthly = {row["month"]: row for row in read("nps_monthly")}
        assert len(monthly) >= 4
        for first, row in monthly.items():
            last = date(first.year + first.month // 12, first.month % 12 + 1, 1).toordinal() - 1
            api = account.nps_summary(first, date.fromordinal(last))
            got = (row["responses"], row["promoters"], row["passives"], row["detractors"], row["nps"])
            assert got == (api["responses"], api["promoters"], api["passives"], api["detractors"], api["nps"]), first

        # incremental: responses in the very second the last run ended on, an edit, edited end users
        by_created = sorted(account.truth("responses"), key=lambda r: r["created_at"])
        newest = by_created[-1]["created_at"]
        edited = next(r for r in reversed(by_created) if 1 <= (newest - r["created_at"]).days <= 5)
        account.update_responses([edited["id"]], text="", tags=["EDITED"])
        added = account.add_responses(12, at=newest)
        account.update_end_users(6)
        done = run_cli(bq_args, workdir, {**env, "DLT_DATA_DIR": str(workdir / "bigquery")})
        assert done.returncode == 0, done.stderr
        assert loaded(done.stdout, ["responses", "responses_history", "end_users"]) == {
            "responses": 13,
            "responses_history": 13,
            "end_users": 6,
        }, done.stdout
        assert_warehouse_exact(account, read)
        versions: Dict[int, List[Dict[str, Any]]] = {}
        for row in read("responses_history"):
            versions.setdefault(row["id"], []).append(row)
        assert set(versions) == {r["id"] for r in account.truth("responses")}
        first, second = sorted(versions.pop(edited["id"]), key=lambda v: v["valid_from"])
        assert (first["text"], second["text"], second["tags"]) == (edited["text"], "", ["EDITED"])
        assert first["valid_to"] == second["valid_from"] and second["valid_to"] is None
        assert all(len(v) == 1 and v[0]["valid_to"] is None for v in versions.values())
        assert {r["id"] for r in added} <= set(versions)
    finally:
        bigquery_emulator.drop_datasets(dataset)


def test_verify_finds_changed_months_and_repair_restores_them(workdir: Path, start_sandbox, bigquery_emulator) -> None:
    """Responses deleted and edited in the API (outside the look-back window) and a month truncated in
    BigQuery: `verify` names the three months (exit 9), `--repair` restores them and marks the deleted."""
    account = generate_account(seed=66, end_users=60, responses=600, declines=40, span_days=120)
    server = start_sandbox(account)
    dataset = f"verify_{uuid.uuid4().hex[:8]}"
    args = ["--destination", "bigquery", "--dataset-name", dataset]
    env = {**sandbox_env(server), **bigquery.env(bigquery_emulator)}
    table = f"`{bigquery.PROJECT}`.{dataset}.responses"
    try:
        assert run_cli(args, workdir, env).returncode == 0
        responses = account.truth("responses")
        gone, edited = month_ids(responses, 1, counted=True)[:3], month_ids(responses, 2, counted=True)[:2]
        truncated = month_ids(responses, 3, counted=False)
        changed = requests.post(
            f"{server.url}/_sandbox/mutate",
            json={
                "delete": {"kind": "responses", "ids": gone},
                "update_responses": {"ids": edited, "fields": {"excluded_from_calculations": True}},
            },
            timeout=10,
        )
        assert changed.status_code == 200, changed.text
        march = "created_at >= '2023-03-01 00:00:00+00' AND created_at < '2023-04-01 00:00:00+00'"
        bigquery_emulator.query(f"DELETE FROM {table} WHERE {march}")

        found = run_cli(["verify", *args], workdir, env)
        assert found.returncode == EXIT_MISMATCH, found.stdout + found.stderr
        assert differing(found.stdout) == {("default", "responses", m) for m in ("2023-01", "2023-02", "2023-03")}
        repaired = run_cli(["verify", "--repair", *args], workdir, env)
        assert repaired.returncode == 0, repaired.stdout + repaired.stderr
        assert "3 marked deleted" in repaired.stdout

        rows = {r["id"]: r for r in bigquery_emulator.read(dataset, "responses")}
        assert {i for i, r in rows.items() if r["deleted_at"] is not None} == set(gone)
        assert all(rows[i]["excluded_from_calculations"] for i in edited) and set(truncated) <= set(rows)
        assert {i for i, r in rows.items() if r["deleted_at"] is None} == {r["id"] for r in account.truth("responses")}
        monthly = {row["month"]: row for row in bigquery_emulator.read(dataset, "nps_monthly")}
        for month in (1, 2, 3):
            first = date(2023, month, 1)
            api = account.nps_summary(first, date.fromordinal(date(2023, month + 1, 1).toordinal() - 1))
            assert (monthly[first]["responses"], monthly[first]["nps"]) == (api["responses"], api["nps"]), month
    finally:
        bigquery_emulator.drop_datasets(dataset)


def test_two_processes_load_different_accounts_into_one_dataset_at_once(
    workdir: Path, start_sandbox, bigquery_emulator
) -> None:
    """As two Airflow workers would: each its own account, its own pipeline folder, one dataset."""
    accounts = {
        "acme": generate_account(seed=62, end_users=80, responses=600, declines=60),
        "globex": generate_account(seed=63, end_users=70, responses=500, declines=50),
    }
    servers = {name: start_sandbox(account) for name, account in accounts.items()}
    dataset = f"conc_{uuid.uuid4().hex[:8]}"
    args = ["--destination", "bigquery", "--dataset-name", dataset]

    def both_at_once() -> None:
        runs = {}
        for name in accounts:
            own = {**accounts_env({name: servers[name]}), "DLT_DATA_DIR": str(workdir / name)}
            runs[name] = start_cli(args, workdir, {**own, **bigquery.env(bigquery_emulator)})
        for name, proc in runs.items():
            out, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, f"{name}: {err}"
            assert "Traceback" not in err, err

    try:
        both_at_once()
        assert_accounts_exact(accounts, lambda t: bigquery_emulator.read(dataset, t))
        # each account merged through a staging dataset of its own, never the shared one
        made = {d.dataset_id for d in bigquery_emulator.client().list_datasets() if d.dataset_id.startswith(dataset)}
        assert made == {dataset, f"{dataset}_staging_acme", f"{dataset}_staging_globex"}, made
    finally:
        bigquery_emulator.drop_datasets(dataset)


@pytest.mark.parametrize(
    "emulator, expected",
    [
        (True, "BIGQUERY_EMULATOR_HOST is set (http://127.0.0.1:9): set DESTINATION__BIGQUERY__CREDENTIALS__"),
        (False, "missing configuration: set DESTINATION__BIGQUERY__CREDENTIALS__PROJECT_ID"),
    ],
    ids=["emulator without a project", "no credentials"],
)
def test_missing_bigquery_settings_are_named(workdir: Path, start_sandbox, emulator: bool, expected: str) -> None:
    """Nothing is extracted, nothing is sent anywhere (no emulator answers at port 9), one line names what to set."""
    server = start_sandbox(generate_account(seed=64, end_users=5, responses=10, declines=1))
    command, env = _cli(["--destination", "bigquery"], workdir, sandbox_env(server), "wootric_pipeline.py")
    env.pop("BIGQUERY_EMULATOR_HOST", None)
    env.pop("GOOGLE_APPLICATION_CREDENTIALS", None)
    if emulator:
        env["BIGQUERY_EMULATOR_HOST"] = "http://127.0.0.1:9"
    done = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in done.stderr, done.stderr
    assert expected in errors[0], errors[0]
    assert "DESTINATION__CREDENTIALS" not in errors[0]
    assert server.stats()["requests"] == 0, "the destination is checked before anything is extracted"
