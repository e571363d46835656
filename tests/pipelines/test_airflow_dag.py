"""The Airflow DAG, run by Airflow itself (`airflow dags test`) against the sandbox, into DuckDB.

Needs the `[airflow]` extra, so these tests carry the `airflow` mark: the default run deselects
them and `.ci/run` runs them in their own virtualenv (`pytest -m airflow`).
"""

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List

import duckdb
import pytest
from dlt.pipeline.state_sync import decompress_state

from sandbox.woku import generate_company
from sandbox.wootric import generate_account
from tests.conftest import ROOT, sandbox_env
from tests.pipelines.test_woku_pipeline import TABLES as WOKU_TABLES
from tests.pipelines.test_woku_pipeline import assert_table_exact as assert_woku_exact
from tests.support.warehouse import assert_exact, read_duckdb

# Airflow migrates its database (in the first test's setup) and runs `dags test` up to three times in a test
pytestmark = [pytest.mark.airflow, pytest.mark.timeout(1200)]

TABLES = ("end_users", "responses", "declines")
RESOURCES = ["end_users", "responses", "declines", "segments", "survey_templates", "email_stats_sources"]


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, str]:
    """A throwaway Airflow home with a migrated metadata DB and the DAG file copied into its DAGs folder."""
    home = tmp_path_factory.mktemp("airflow-home")
    dags = home / "dags"
    dags.mkdir()
    for name in ("wootric_dag.py", "woku_dag.py"):
        shutil.copy(ROOT / "pipelines" / name, dags / name)
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "120",
    }
    done = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        env={**_clean_env(), **env},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return env


def _clean_env() -> Dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("SOURCES__", "DESTINATION__", "AIRFLOW"))}


def airflow(args: List[str], env: Dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "airflow", *args],
        env={**_clean_env(), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
    )


def dag_structure(env: Dict[str, str], cwd: Path, dag_id: str = "wootric_sync") -> Dict[str, Any]:
    """Import errors, task ids and their upstreams, as Airflow's own DagBag parses the DAGs folder."""
    return dag_structures(env, cwd, [{}], dag_id)[0]


def dag_structures(env: Dict[str, str], cwd: Path, variants: List[Dict[str, str]], dag_id: str = "wootric_sync") -> Any:
    """`dag_structure` under each variant of the environment, parsed in one process (Airflow imports once)."""
    script = (
        "import json, os, sys\n"
        "try:\n"
        "    from airflow.dag_processing.dagbag import DagBag\n"
        "except ImportError:  # Airflow 2\n"
        "    from airflow.models.dagbag import DagBag\n"
        "for variant in json.loads(sys.argv[1]):\n"
        "  os.environ.update(variant)\n"
        "  bag = DagBag()\n"
        f"  dag = bag.dags.get({dag_id!r})\n"
        "  print('structure:', json.dumps({'errors': {k: v[-500:] for k, v in bag.import_errors.items()},\n"
        "    'tasks': {t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks} if dag else None,\n"
        "    'retries': {t.task_id: t.retries for t in dag.tasks} if dag else None,\n"
        "    'rules': sorted({getattr(t.trigger_rule, 'value', t.trigger_rule) for t in dag.tasks}) if dag else None,\n"
        "    'caps': {t.task_id: t.max_active_tis_per_dagrun for t in dag.tasks} if dag else None,\n"
        "    'pools': sorted({t.pool for t in dag.tasks}) if dag else None,\n"
        "    'timetable': type(dag.timetable).__name__ if dag else None}))\n"
        "  for key in variant:\n"
        "    os.environ.pop(key)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, json.dumps(variants)],
        env={**_clean_env(), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = [json.loads(line.split(" ", 1)[1]) for line in done.stdout.splitlines() if line.startswith("structure: ")]
    assert len(found) == len(variants), done.stdout[-3000:]
    return found


def state_cursor(db: Path, resource: str, cursor: str) -> Any:
    """The incremental state dlt keeps in the destination (what a fresh Airflow worker restores)."""
    with duckdb.connect(str(db), read_only=True) as con:
        blob = con.execute("SELECT state FROM wootric._dlt_pipeline_state ORDER BY version DESC LIMIT 1").fetchall()[0][
            0
        ]
    state = decompress_state(blob)
    return state["sources"]["wootric"]["resources"][resource]["incremental"][cursor]["last_value"]


def test_dag_maps_accounts_one_task_each_then_the_views(airflow_home, workdir: Path, start_sandbox) -> None:
    server = start_sandbox(generate_account(seed=41, end_users=10, responses=20, declines=2))
    # the secrets as an Airflow Variable holding a secrets.toml (here from the environment's
    # AIRFLOW_VAR_ backend), which dlt reads on its own
    secrets = "\n".join(
        [
            "[sources.wootric]",
            f'base_url = "{server.url}"',
            "[sources.wootric.credentials]",
            f'client_id = "{server.client_id}"',
            f'client_secret = "{server.client_secret}"',
        ]
    )
    env = {**airflow_home, "AIRFLOW_VAR_DLT_SECRETS_TOML": secrets}
    message = "destination duckdb cannot be used under CeleryExecutor"
    celery = {"AIRFLOW__CORE__EXECUTOR": "CeleryExecutor"}
    bigquery = {"WOOTRIC_DAG__DESTINATION": "bigquery"}
    got, on_bigquery, pooled, refused = dag_structures(
        env, workdir, [{}, bigquery, {**bigquery, "WOOTRIC_DAG__POOL": "bq"}, celery]
    )
    assert got["errors"] == {}
    assert list(got["tasks"]) == ["accounts", "account", "analyst_views", "all_loaded"]  # no `themes` unless configured
    assert got["tasks"]["account"] == ["accounts"]  # mapped over the accounts listed at run time
    assert got["tasks"]["analyst_views"] == ["account"]
    assert got["tasks"]["all_loaded"] == ["account", "accounts", "analyst_views"]
    assert got["retries"] == {"accounts": 0, "account": 3, "analyst_views": 3, "all_loaded": 0}
    # the views run after failed accounts too, and the last task fails the run
    assert got["rules"] == ["all_done", "all_success", "one_failed"]
    assert got["timetable"] == "CronDataIntervalTimetable"
    assert got["caps"]["account"] is None, "DuckDB's loads take turns on their own (a file lock)"
    assert server.stats()["requests"] == 0, "parsing the DAG must not call the API"
    # BigQuery: one account at a time, unless a pool the user created decides
    assert on_bigquery["errors"] == {} and on_bigquery["caps"]["account"] == 1
    assert pooled["caps"]["account"] is None and pooled["pools"] == ["bq"]
    # DuckDB under a distributed executor: the DAG does not import, with one line saying why
    assert refused["tasks"] is None and any(message in error for error in refused["errors"].values())
    # and a task starting on a worker so configured refuses the same way
    check = "from pipelines.airflow_dag import refuse_shared_duckdb as r; r('postgres'); r('duckdb')"
    done = subprocess.run(
        [sys.executable, "-c", check],
        env={**_clean_env(), **env, **celery},
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1 and message in done.stderr.strip().splitlines()[-1]


def wootric_accounts_env(servers: Dict[str, Any]) -> Dict[str, str]:
    env = {"SOURCES__WOOTRIC__ACCOUNTS": ",".join(servers)}
    for name, server in servers.items():
        env[f"SOURCES__WOOTRIC__{name.upper()}__BASE_URL"] = server.url
        env[f"SOURCES__WOOTRIC__{name.upper()}__CREDENTIALS__CLIENT_ID"] = server.client_id
        env[f"SOURCES__WOOTRIC__{name.upper()}__CREDENTIALS__CLIENT_SECRET"] = server.client_secret
    return env


def test_three_accounts_one_refused_the_others_land_and_the_run_fails(
    airflow_home, workdir: Path, start_sandbox
) -> None:
    made = {
        name: generate_account(seed=60 + i, end_users=20, responses=60, declines=4)
        for i, name in enumerate(("a", "b", "c"))
    }
    db = workdir / "feedback.duckdb"
    env = {**airflow_home, **wootric_accounts_env({n: start_sandbox(a) for n, a in made.items()})}
    env["DESTINATION__DUCKDB__CREDENTIALS"] = str(db)
    env["WOOTRIC_DAG__RETRIES"] = "0"  # `dags test` would wait out each retry delay
    env["SOURCES__WOOTRIC__B__CREDENTIALS__CLIENT_SECRET"] = "wrong-secret-456"
    run = airflow(["dags", "test", "wootric_sync", "2024-05-01T02:00:00+00:00"], env, workdir)
    # Airflow's own verdict on the run's state (2.10 and 3.x alike; `list-runs` on 2.x needs a serialized DAG)
    assert run.returncode == 1 and "DagRun failed" in run.stderr, run.stdout[-3000:]
    assert "wrong-secret-456" not in run.stdout + run.stderr
    assert f"account 'b': {', '.join(RESOURCES)} failed: " in run.stdout + run.stderr  # one line, every resource
    for table in TABLES:
        rows = read_duckdb(db, "wootric", table)
        assert {row["account"] for row in rows} == {"a", "c"}, table
        for name in ("a", "c"):
            assert_exact(table, made[name].truth(table), rows, account=name)
    with duckdb.connect(str(db), read_only=True) as con:
        names = {r[0] for r in con.execute("SELECT DISTINCT pipeline_name FROM wootric._dlt_pipeline_state").fetchall()}
    assert names == {"wootric-a", "wootric-c"}  # each account its own state


def test_a_resource_failing_once_is_retried_alone(airflow_home, workdir: Path, start_sandbox) -> None:
    # two accounts with the same records: `y` loads once, so its requests are what one load of each takes
    made = {name: generate_account(seed=70, end_users=20, responses=60, declines=4) for name in ("x", "y")}
    servers = {name: start_sandbox(account) for name, account in made.items()}
    servers["x"].inject("500", "/v1/responses", times=1)  # x's responses fail on the first try only
    db = workdir / "feedback.duckdb"
    env = {**airflow_home, **wootric_accounts_env(servers), "DESTINATION__DUCKDB__CREDENTIALS": str(db)}
    env["DLT_DATA_DIR"] = str(workdir / "dlt")
    env["SOURCES__WOOTRIC__X__MAX_RETRIES"] = "1"  # the 500 fails the resource at once
    env["WOOTRIC_DAG__RETRIES"] = "1"
    env["AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY"] = "1"
    run = airflow(["dags", "test", "wootric_sync", "2024-06-01T02:00:00+00:00"], env, workdir)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    log = run.stdout + run.stderr
    assert "account 'x': responses failed: " in log  # try 1: the task failed naming the resource
    assert log.count("already loaded in this run") == len(RESOURCES) - 1  # try 2 skipped the others
    x, y = (servers[name].stats()["by_path"] for name in ("x", "y"))
    assert x.pop("/v1/responses") == y.pop("/v1/responses") + 1  # the failed request, then one load
    assert x == y, "the retry requested only the resource that failed"
    for table in TABLES:
        rows = read_duckdb(db, "wootric", table)
        for name in ("x", "y"):
            assert_exact(table, made[name].truth(table), rows, account=name)
    # what try 1 loaded is marked in the destination's state, where a retry on another worker finds it: the
    # last mark went in a load package of its own (x loaded once more than y)
    with duckdb.connect(str(db), read_only=True) as con:
        states = con.execute("SELECT pipeline_name, state FROM wootric._dlt_pipeline_state").fetchall()
        loads = dict(con.execute("SELECT schema_name, count(*) FROM wootric._dlt_loads GROUP BY 1").fetchall())
    marks = [decompress_state(blob)["sources"]["x"].get("airflow_run") for name, blob in states if name == "wootric-x"]
    assert [r for r in RESOURCES if r != "responses"] in [mark["loaded"] for mark in marks if mark]
    assert loads["x"] == loads["y"] + 1


def test_themes_after_the_views_where_configured(airflow_home, workdir: Path, start_sandbox) -> None:
    made = generate_account(seed=45, end_users=20, responses=120, declines=4)
    db = workdir / "feedback.duckdb"
    env = {**airflow_home, **sandbox_env(start_sandbox(made)), "DESTINATION__DUCKDB__CREDENTIALS": str(db)}
    env["SOURCES__WOOTRIC__THEMES"] = "true"
    got = dag_structure(env, workdir)
    assert got["errors"] == {} and got["tasks"]["themes"] == ["analyst_views"]
    assert "themes" in got["tasks"]["all_loaded"]
    run = airflow(["dags", "test", "wootric_sync", "2024-07-01T02:00:00+00:00"], env, workdir)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    commented = {r["id"] for r in made.truth("responses") if (r["text"] or "").strip()}
    assigned = [int(r["response_id"]) for r in read_duckdb(db, "wootric", "response_themes")]
    assert sorted(assigned) == sorted(commented)  # every commented response, once
    themes = read_duckdb(db, "wootric", "comment_themes")
    assert sum(t["size"] for t in themes) == len(commented)


def test_woku_dag_three_companies_one_refused(airflow_home, workdir: Path, start_woku) -> None:
    made = {
        name: generate_company(seed=80 + i, nps_responses=60, reviews=20, form_responses=10)
        for i, name in enumerate(("a", "b", "c"))
    }
    servers = {name: start_woku(company) for name, company in made.items()}
    db = workdir / "feedback.duckdb"
    env = {**airflow_home, "SOURCES__WOKU__ACCOUNTS": "a,b,c", "DESTINATION__DUCKDB__CREDENTIALS": str(db)}
    for name, server in servers.items():
        env[f"SOURCES__WOKU__{name.upper()}__BASE_URL"] = server.url
        env[f"SOURCES__WOKU__{name.upper()}__CREDENTIALS__API_KEY"] = server.api_key
    env["SOURCES__WOKU__B__CREDENTIALS__API_KEY"] = "wrong-key-987654"
    env["WOKU_DAG__RETRIES"] = "0"
    got = dag_structure(env, workdir, "woku_sync")
    assert got["errors"] == {} and "accounts" in got["tasks"] and "analyst_views" in got["tasks"]
    run = airflow(["dags", "test", "woku_sync", "2024-05-01T02:00:00+00:00"], env, workdir)
    assert run.returncode == 1 and "DagRun failed" in run.stderr, run.stdout[-3000:]
    assert "wrong-key-987654" not in run.stdout + run.stderr
    for table in WOKU_TABLES:
        rows = read_duckdb(db, "woku", table)
        assert {row["account"] for row in rows} == {"a", "c"}, table
        for name in ("a", "c"):
            assert_woku_exact(table, made[name], [r for r in rows if r["account"] == name], account=name)


def test_scheduled_manual_and_backfill_runs_under_airflow(airflow_home, workdir: Path, start_sandbox) -> None:
    account = generate_account(
        seed=42,
        end_users=120,
        responses=1600,
        declines=80,
        start=datetime(2024, 3, 1, tzinfo=timezone.utc),
        span_days=60,
    )
    server = start_sandbox(account)
    db = workdir / "feedback.duckdb"
    env = {**airflow_home, **sandbox_env(server), "DESTINATION__DUCKDB__CREDENTIALS": str(db)}

    def read(table: str) -> List[Dict[str, Any]]:
        return read_duckdb(db, "wootric", table)

    def assert_all_exact() -> None:
        for table in TABLES:
            assert_exact(table, account.truth(table), read(table))

    # a scheduled-style run for a logical date: the first run loads all history, exact
    first = airflow(["dags", "test", "wootric_sync", "2024-05-01T02:00:00+00:00"], env, workdir)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-4000:]
    assert_all_exact()
    with duckdb.connect(str(db), read_only=True) as con:
        views = {r[0] for r in con.execute("SELECT table_name FROM information_schema.views").fetchall()}
    assert {"nps_daily", "nps_monthly", "nps_by_segment", "feedback"} <= views

    # a manual trigger (no logical date: Airflow picks the latest whole day) loads what is new, unbounded
    account.add_responses(30)
    account.update_end_users(6)
    account.add_declines(4)
    manual = airflow(["dags", "test", "wootric_sync"], env, workdir)
    assert manual.returncode == 0, manual.stdout[-4000:] + manual.stderr[-4000:]
    assert_all_exact()
    cursor_before = state_cursor(db, "responses", "created_at")

    # a backfill reloads exactly its data interval and leaves the incremental state alone
    lost_from, lost_to = datetime(2024, 3, 10, tzinfo=timezone.utc), datetime(2024, 3, 13, tzinfo=timezone.utc)
    with duckdb.connect(str(db)) as con:
        con.execute("DELETE FROM wootric.responses WHERE created_at >= ? AND created_at < ?", [lost_from, lost_to])
    # the run for logical date 2024-03-12 02:00 covers [2024-03-11 02:00, 2024-03-12 02:00)
    interval = (datetime(2024, 3, 11, 2, tzinfo=timezone.utc), datetime(2024, 3, 12, 2, tzinfo=timezone.utc))
    backfill = airflow(
        ["dags", "test", "wootric_sync", "2024-03-12T02:00:00+00:00", "-c", json.dumps({"backfill": True})],
        env,
        workdir,
    )
    assert backfill.returncode == 0, backfill.stdout[-4000:] + backfill.stderr[-4000:]
    expected = [
        r
        for r in account.truth("responses")
        if not (lost_from <= r["created_at"] < lost_to) or interval[0] <= r["created_at"] < interval[1]
    ]
    restored = [r for r in expected if interval[0] <= r["created_at"] < interval[1]]
    assert len(restored) >= 10, "the interval must hold records for the test to mean anything"
    assert_exact("responses", expected, read("responses"))
    assert state_cursor(db, "responses", "created_at") == cursor_before
