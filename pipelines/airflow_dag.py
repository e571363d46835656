"""The Airflow DAG of any vendor (`wootric_sync`, `woku_sync`): accounts mapped over at run time, one task
per account. Deploy: `pip install 'feedback-connectors[airflow]'` on the workers and copy `wootric_dag.py`
or `woku_dag.py` into the DAGs folder. This text is each DAG's documentation in Airflow's UI.

Shape: `accounts` lists the configured accounts when the run starts; `account` is mapped over them
(dynamic task mapping), so a Celery or Kubernetes executor places accounts on different workers. One
task per account, not per resource: every task is a new process importing Airflow and dlt. Within it the
account's resources load one after another, each in its own extract, normalize and load (a failed
resource in a shared extract drops the others' data too); one failing does not stop the others, and the
task then fails naming it. A retry loads only what the run has not loaded yet: each loaded resource is
marked in the account's dlt state, which dlt keeps in the destination, so a retry on another worker
skips it too. `analyst_views` runs once every account is done, then `themes` where `themes = true`;
`all_loaded` fails the run if a task failed.

Every task syncs through the runner's own `account_sync` (pipelines/runner/sync.py): each account its
own pipeline and state, loads taking turns per destination (a file lock beside a DuckDB file, a
PostgreSQL advisory lock across workers). DuckDB is refused under executors other than LocalExecutor or
SequentialExecutor: its file cannot be shared across machines. Into other warehouses (BigQuery...) one
account loads at a time per run, unless the DAG names an Airflow pool (`pool`), which then decides;
create it first (`airflow pools set NAME SLOTS DESCRIPTION`): a task in a missing pool waits forever.

Configuration comes from dlt, never from the DAG file: environment variables, the `.dlt` folder beside
the DAGs, or the Airflow Variable `dlt_secrets_toml`. The DAG's own settings are dlt config keys under
`<vendor>_dag` (`WOOTRIC_DAG__DESTINATION`, `__DATASET_NAME`, `__PIPELINE_NAME`, `__SCHEDULE`,
`__RETRIES`, `__RESOURCES`, `__MAX_ACTIVE_TASKS`, `__POOL`). A retry waits Airflow's
`[core] default_task_retry_delay` (5 minutes), doubling each time up to an hour.

Which records a run loads: scheduled runs and manual triggers continue from the incremental state with
the look-back; backfills (`airflow backfill create`, or conf `{"backfill": true}`) load exactly their
data interval through dlt's `allow_external_schedulers` and leave the state alone.
"""

import argparse
import logging
import os
from datetime import timedelta
from typing import Any, Dict, List, Optional

import dlt
import pendulum
from airflow.configuration import conf
from airflow.timetables.interval import CronDataIntervalTimetable
from dlt.common.configuration.container import Container
from dlt.extract.incremental.context import TimeIntervalContext

from pipelines.intervals import check_interval, executor_name, loads_its_interval
from pipelines.runner.accounts import configured_accounts
from pipelines.runner.cli import explain
from pipelines.runner.main import install_log_filters
from pipelines.runner.sync import account_sync, create_views_after
from pipelines.runner.vendor import Vendor
from pipelines.warehouse.destinations import DEFAULT_DUCKDB_FILE
from pipelines.warehouse.themes import themes_after_sync, write_themes
from sources.http_kit import ConfigError, SourceError, install_log_redaction, one_line

logger = logging.getLogger(__name__)

try:  # Airflow 3
    from airflow.sdk import DAG, get_current_context, task
except ImportError:  # Airflow 2.10, which managed services still run
    from airflow import DAG
    from airflow.decorators import task
    from airflow.operators.python import get_current_context

#: the name a run without an account list maps over (Airflow maps over values, never over nothing)
SINGLE = "-"
#: executors that run every task on this machine, the only ones a DuckDB file can serve
ONE_MACHINE = ("LocalExecutor", "SequentialExecutor")
#: destinations whose loads already take turns across workers (gate.py); others get one account at a time
SERIALISED = ("postgres", "duckdb")
#: the key in an account's source state holding what a DAG run has loaded: {"run": ..., "loaded": [...]}
LOADED_KEY = "airflow_run"


def settings(vendor: Vendor) -> Dict[str, Any]:
    """The DAG's settings, `<vendor>_dag.<key>` in dlt's config, with their defaults."""
    defaults = {
        "destination": "duckdb",
        "dataset_name": vendor.name,
        "pipeline_name": vendor.name,
        "schedule": "0 2 * * *",
        "retries": 3,
        "resources": None,
        "max_active_tasks": 8,
        "pool": None,
    }
    found = {key: dlt.config.get(f"{vendor.name}_dag.{key}") for key in defaults}
    return {key: default if found[key] in (None, "") else found[key] for key, default in defaults.items()}


def run_args(config: Dict[str, Any], resource: str) -> argparse.Namespace:
    """The options a CLI run of one resource would have."""
    return argparse.Namespace(
        destination=config["destination"],
        dataset_name=config["dataset_name"],
        pipeline_name=config["pipeline_name"],
        resources=resource,
        start_date=None,
        full_refresh=False,
        progress="none",
        max_parallel_accounts=1,
    )


def duckdb_file() -> str:
    """A file that outlives the task's temporary folders (DESTINATION__DUCKDB__CREDENTIALS wins)."""
    return os.path.join(os.environ.get("AIRFLOW_HOME", os.getcwd()), DEFAULT_DUCKDB_FILE)


def choose_interval_policy() -> None:
    """Before each task: join Airflow's data interval (dlt's external scheduler) for backfills only."""
    context = get_current_context()
    dag_run = context["dag_run"]
    bounded = loads_its_interval(getattr(dag_run, "run_type", None), getattr(dag_run, "conf", None))
    check_interval(bounded, context.get("data_interval_start"), context.get("data_interval_end"))
    Container()[TimeIntervalContext] = TimeIntervalContext(allow_external_schedulers=bounded)


def refuse_shared_duckdb(destination: str) -> None:
    """A DuckDB file belongs to one machine: refused (one line) when tasks may run on others."""
    executor = executor_name(str(conf.get("core", "executor")))
    if destination == "duckdb" and executor not in ONE_MACHINE:
        raise ConfigError(
            f"destination duckdb cannot be used under {executor}: its tasks run on several machines and one"
            " DuckDB file cannot be shared across them; use LocalExecutor, or a warehouse such as postgres"
        )


def run_key() -> str:
    """This DAG run, for the marks of what it loaded: a retry keeps them, clearing the run starts afresh."""
    dag_run = get_current_context()["dag_run"]
    return f"{dag_run.run_id}#{getattr(dag_run, 'clear_number', 0) or 0}"


def load_account(
    vendor: Vendor, config: Dict[str, Any], groups: Dict[str, List[str]], account: Optional[str]
) -> Dict[str, int]:
    """The account's resources one after another, each in its own extract/normalize/load, skipping those
    this run has loaded already (a retry); fails at the end naming the resources that failed."""
    refuse_shared_duckdb(config["destination"])
    choose_interval_policy()
    key = run_key()
    args = run_args(config, ",".join(dict.fromkeys(r for group in groups.values() for r in group)))
    with account_sync(vendor, args, account, duckdb_file()) as sync:
        marks = sync.state.get(LOADED_KEY) or {}
        loaded = list(marks.get("loaded", [])) if marks.get("run") == key else []
        earlier = len(loaded)

        def mark(state: Dict[str, Any]) -> None:
            state[LOADED_KEY] = {"run": key, "loaded": list(loaded)}

        rows = dict(sync.pending_rows)
        failed: Dict[str, List[str]] = {}  # cause -> resources
        for resource, group in groups.items():
            if resource in loaded:
                logger.info("%s: already loaded in this run (an earlier try), skipped", resource)
                continue
            try:
                for table, n in sync.load(group).items():
                    rows[table] = rows.get(table, 0) + n
            except Exception as exc:  # noqa: BLE001 - one resource failing must not keep the others from loading
                explained = explain(exc)
                if explained is None:
                    logger.exception("%s failed", resource)  # a bug: its traceback in the task log
                cause = explained[0] if explained else f"unexpected {type(exc).__name__} (traceback in the log)"
                logger.error("%s failed: %s", resource, one_line(cause))
                failed.setdefault(one_line(cause), []).append(resource)
                continue
            loaded.append(resource)
            # kept locally, the mark goes to the destination in the next resource's load package
            sync.change_state(mark)
        if failed and len(loaded) > earlier:
            try:  # the last mark in a package of its own: a retry on another worker skips what loaded
                sync.change_state(mark, load=True)
            except Exception as exc:  # noqa: BLE001 - the resources' failure is the one to report
                logger.warning(
                    "what loaded is not marked in the destination (%s): a retry on another worker loads it again",
                    one_line(str((explain(exc) or (type(exc).__name__,))[0])),
                )
    if failed:
        where = "" if account is None else f"account {account!r}: "
        raise SourceError(where + "; ".join(f"{', '.join(names)} failed: {cause}" for cause, names in failed.items()))
    return rows


def build_dag(vendor: Vendor, dag_id: str) -> DAG:
    install_log_filters(vendor)
    install_log_redaction()
    config = settings(vendor)
    refuse_shared_duckdb(config["destination"])  # at parse time: the DAG's import error says why
    themes = themes_after_sync(vendor, config["destination"])  # so is a missing [themes] extra
    # the resources each account runs, known without credentials when the DAG is parsed
    chosen = [r.strip() for r in str(config["resources"] or "").split(",") if r.strip()]
    resources = chosen or [r for r in vendor.resources if r not in vendor.default_excluded and r not in vendor.history]
    # an opt-in history table loads with its parent: it reads the records the parent fetches
    history_on = str(dlt.config.get(f"{vendor.section}.history") or "").lower() in ("true", "1", "yes")
    groups = {r: [r, *(h for h, parent in vendor.history.items() if parent == r and history_on)] for r in resources}
    # loads into other warehouses take no turns of their own: one account at a time, unless a pool decides
    turns = {} if config["pool"] or config["destination"] in SERIALISED else {"max_active_tis_per_dagrun": 1}

    with DAG(
        dag_id=dag_id,
        # a real one-day interval (Airflow 3 turns "@daily" into a trigger with an empty interval)
        schedule=CronDataIntervalTimetable(config["schedule"], timezone="UTC"),
        start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
        catchup=False,
        max_active_runs=1,  # runs share each account's incremental state
        max_active_tasks=int(config["max_active_tasks"]),
        default_args={
            "retries": int(config["retries"]),
            # explicit: Airflow 3.3's scheduler takes 300 s for a mapped task left to [core] default_task_retry_delay
            "retry_delay": timedelta(seconds=conf.getint("core", "default_task_retry_delay", fallback=300)),
            "retry_exponential_backoff": True,
            "max_retry_delay": timedelta(hours=1),
            **({"pool": config["pool"]} if config["pool"] else {}),
        },
        tags=[vendor.name, "dlt"],
        doc_md=__doc__,
    ) as dag:

        @task(task_id="accounts", retries=0)
        def accounts() -> List[str]:
            """The accounts configured when the run starts: a new account needs no new DAG file."""
            return configured_accounts(vendor) or [SINGLE]

        @task(task_id="account", map_index_template="{{ account_name }}", **turns)
        def account(name: str) -> Dict[str, int]:
            get_current_context()["account_name"] = name  # type: ignore[typeddict-unknown-key]  # the UI's label
            return load_account(vendor, config, groups, None if name == SINGLE else name)

        @task(task_id="analyst_views", trigger_rule="all_done")
        def views() -> List[str]:
            refuse_shared_duckdb(config["destination"])
            return create_views_after(vendor, run_args(config, ""), duckdb_file())[1]

        after_views = account.expand(name=accounts()) >> views()
        if themes:

            @task(task_id="themes")
            def comment_themes() -> None:
                """Every account's comments, new ones embedded, the themes kept (`themes --rebuild` refits)."""
                write_themes(vendor, run_args(config, ""), duckdb_file())

            after_views >> comment_themes()
        # with all_done the last task would succeed over failed ones: this one fails the run
        verdict = task(report_failures, task_id="all_loaded", trigger_rule="one_failed", retries=0)()
        for each in dag.tasks:
            if each is not verdict.operator:
                each >> verdict  # directly: one_failed looks at direct upstream tasks only
    return dag


def report_failures() -> None:
    """Runs only when a task before it failed (trigger rule one_failed), so the DAG run is marked failed."""
    raise SourceError("an account or resource failed to load; the other tasks ran (see their logs)")
