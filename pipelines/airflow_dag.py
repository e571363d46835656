"""The Airflow DAG of any vendor: accounts mapped over at run time, one task per resource within each.

Shape: `accounts` lists the configured accounts when the run starts; `account` is a task group mapped
over them (dynamic task mapping), so a Celery or Kubernetes executor places accounts on different
workers; within an account its resources run one after another (they share the account's state); the
analyst views run once every account is done; `all_loaded` fails the run if any task failed.

Every task syncs through the runner's own `sync_account` (pipelines/runner/sync.py): each account its
own pipeline and state, loads taking turns per destination (a file lock beside a DuckDB file on one
machine, a PostgreSQL advisory lock across workers). Concurrency is capped by the DAG setting
`max_active_tasks` and, if set, an Airflow pool (`pool`).

Configuration comes from dlt, never from the DAG file: environment variables, the `.dlt` folder beside
the DAGs, or the Airflow Variable `dlt_secrets_toml`. The DAG's own settings are dlt config keys under
`<vendor>_dag` (`WOOTRIC_DAG__DESTINATION`, `__DATASET_NAME`, `__PIPELINE_NAME`, `__SCHEDULE`,
`__RETRIES`, `__RESOURCES`, `__MAX_ACTIVE_TASKS`, `__POOL`).

Which records a run loads: scheduled runs and manual triggers continue from the incremental state with
the look-back; backfills (`airflow backfill create`, or conf `{"backfill": true}`) load exactly their
data interval through dlt's `allow_external_schedulers` and leave the state alone.
"""

import argparse
import os
from datetime import timedelta
from typing import Any, Dict, List

import dlt
import pendulum
from airflow.timetables.interval import CronDataIntervalTimetable
from dlt.common.configuration.container import Container
from dlt.extract.incremental.context import TimeIntervalContext

from pipelines.intervals import check_interval, loads_its_interval
from pipelines.runner.accounts import configured_accounts
from pipelines.runner.main import install_log_filters
from pipelines.runner.sync import create_views_after, sync_account
from pipelines.runner.vendor import Vendor
from pipelines.warehouse.destinations import DEFAULT_DUCKDB_FILE
from sources.http_kit import SourceError, install_log_redaction

try:  # Airflow 3
    from airflow.providers.standard.operators.python import PythonOperator
    from airflow.sdk import DAG, get_current_context, task, task_group
except ImportError:  # Airflow 2.10, which managed services still run
    from airflow import DAG
    from airflow.decorators import task, task_group
    from airflow.operators.python import PythonOperator, get_current_context

#: the name a run without an account list maps over (Airflow maps over values, never over nothing)
SINGLE = "-"


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


def build_dag(vendor: Vendor, dag_id: str, doc: str) -> DAG:
    install_log_filters(vendor)
    install_log_redaction()
    config = settings(vendor)
    # the resources each account runs, known without credentials when the DAG is parsed
    chosen = [r.strip() for r in str(config["resources"] or "").split(",") if r.strip()]
    resources = chosen or [r for r in vendor.resources if r not in vendor.default_excluded and r not in vendor.history]
    # an opt-in history table loads in its parent's task: it reads the records the parent fetches
    history_on = str(dlt.config.get(f"{vendor.section}.history") or "").lower() in ("true", "1", "yes")
    together = {
        r: ",".join([r, *(h for h, parent in vendor.history.items() if parent == r and history_on)]) for r in resources
    }

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
            "retry_delay": timedelta(minutes=5),
            "retry_exponential_backoff": True,
            "max_retry_delay": timedelta(hours=1),
            **({"pool": config["pool"]} if config["pool"] else {}),
        },
        tags=[vendor.name, "dlt"],
        doc_md=doc,
    ) as dag:

        @task(task_id="accounts", retries=0)
        def accounts() -> List[str]:
            """The accounts configured when the run starts: a new account needs no new DAG file."""
            return configured_accounts(vendor) or [SINGLE]

        def sync(account: str, resource: str) -> Dict[str, int]:
            choose_interval_policy()
            return sync_account(
                vendor, run_args(config, together[resource]), None if account == SINGLE else account, duckdb_file()
            )

        @task_group(group_id="account")
        def account_group(account: str) -> None:
            previous = None
            for resource in resources:
                # one resource failing must not keep the account's others from loading
                step = task(sync, task_id=resource, trigger_rule="all_done")(account, resource)
                if previous is not None:
                    previous >> step  # one after another: the account's resources share its state
                previous = step

        synced = account_group.expand(account=accounts())
        views = PythonOperator(
            task_id="analyst_views",
            python_callable=create_views_after,
            op_args=[vendor, run_args(config, ""), duckdb_file()],
            trigger_rule="all_done",
        )
        synced >> views
        # with all_done everywhere the last task would succeed over failed ones: this one fails the run
        verdict = PythonOperator(
            task_id="all_loaded", python_callable=report_failures, trigger_rule="one_failed", retries=0
        )
        for each in dag.tasks:
            if each is not verdict:
                each >> verdict  # directly: one_failed looks at direct upstream tasks only
    return dag


def report_failures() -> None:
    """Runs only when a task before it failed (trigger rule one_failed), so the DAG run is marked failed."""
    raise SourceError("an account or resource failed to load; the other tasks ran (see their logs)")
