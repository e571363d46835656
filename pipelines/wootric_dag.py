"""Airflow DAG: the Wootric pipeline, one task per resource, every day, with retries.

Deploy: `pip install 'feedback-connectors[airflow]'` on the workers and copy this file into the DAGs
folder. Configuration comes from dlt, never from this file: environment variables
(`SOURCES__WOOTRIC__CREDENTIALS__CLIENT_ID`, ...), the `.dlt` folder beside the DAGs, or the
Airflow Variable `dlt_secrets_toml` holding a secrets.toml (dlt reads it). The DAG's own settings
are dlt config keys too (`WOOTRIC_DAG__DESTINATION`, `__DATASET_NAME`, `__SCHEDULE`, `__RETRIES`).

Which records a run loads:
- scheduled runs and manual triggers continue from the incremental state, with the look-back:
  each run loads everything created or changed since the previous run, so when a scheduled run
  succeeds its data interval is complete, and a paused DAG (catchup off) loses nothing;
- backfill runs (`airflow backfill create`, or a trigger with conf `{"backfill": true}`) load
  exactly their data interval, through dlt's `allow_external_schedulers`, and leave the state alone.
"""

import os
from datetime import timedelta
from typing import Any, List, Optional

import dlt
import pendulum
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, get_current_context
from airflow.timetables.interval import CronDataIntervalTimetable
from dlt.common.configuration.container import Container
from dlt.extract.incremental.context import TimeIntervalContext
from dlt.helpers.airflow_helper import PipelineTasksGroup

from pipelines.intervals import check_interval, loads_its_interval
from pipelines.runner.accounts import make_sources
from pipelines.runner.main import install_log_filters
from pipelines.runner.sync import apply_bigquery_layout
from pipelines.vendors import WOOTRIC
from pipelines.warehouse.destinations import DEFAULT_DUCKDB_FILE, LOADER_FILE_FORMAT, destination_for
from sources.http_kit import SourceError, install_log_redaction

DAG_ID = "wootric_sync"


def setting(key: str, default: Any) -> Any:
    value = dlt.config.get(f"wootric_dag.{key}")
    return default if value in (None, "") else value


def choose_interval_policy() -> None:
    """Before each task: join Airflow's data interval (dlt's external scheduler) for backfills only."""
    context = get_current_context()
    dag_run = context["dag_run"]
    bounded = loads_its_interval(getattr(dag_run, "run_type", None), getattr(dag_run, "conf", None))
    check_interval(bounded, context.get("data_interval_start"), context.get("data_interval_end"))
    Container()[TimeIntervalContext] = TimeIntervalContext(allow_external_schedulers=bounded)


def create_views(pipeline_name: str, destination: Any, dataset_name: str) -> List[str]:
    """The analyst views, once every resource task has loaded."""
    pipeline = dlt.pipeline(pipeline_name=pipeline_name, destination=destination, dataset_name=dataset_name)
    pipeline.sync_destination()
    return WOOTRIC.create_views(pipeline, dataset_name)


def build_dag() -> DAG:
    install_log_filters(WOOTRIC)
    install_log_redaction()
    destination_name = setting("destination", "duckdb")
    dataset_name = setting("dataset_name", "wootric")
    pipeline_name = setting("pipeline_name", "wootric")
    # DuckDB: a file that outlives the task's temporary folders (DESTINATION__DUCKDB__CREDENTIALS wins)
    duckdb_file = os.path.join(os.environ.get("AIRFLOW_HOME", os.getcwd()), DEFAULT_DUCKDB_FILE)
    retries = int(setting("retries", 3))
    with DAG(
        dag_id=DAG_ID,
        # a real one-day interval (Airflow 3 turns "@daily" into a trigger with an empty interval)
        schedule=CronDataIntervalTimetable(setting("schedule", "0 2 * * *"), timezone="UTC"),
        start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
        catchup=False,
        max_active_runs=1,  # runs share one incremental state
        default_args={
            "retries": retries,
            "retry_delay": timedelta(minutes=5),
            "retry_exponential_backoff": True,
            "max_retry_delay": timedelta(hours=1),
        },
        tags=["wootric", "dlt"],
        doc_md=__doc__,
    ) as dag:
        destination = destination_for(destination_name, dataset_name, duckdb_file)
        tasks = PipelineTasksGroup(pipeline_name, use_data_folder=False, wipe_local_data=True, buffer_max_items=2000)
        pipeline = dlt.pipeline(pipeline_name=pipeline_name, destination=destination, dataset_name=dataset_name)
        previous: Optional[Any] = None
        for source in make_sources(WOOTRIC, setting("resources", None), None):
            if destination_name == "bigquery":
                apply_bigquery_layout(WOOTRIC, source)
            run = tasks.add_run(
                pipeline,
                source,
                decompose="serialize",
                loader_file_format=LOADER_FILE_FORMAT.get(destination_name),
                on_before_run=choose_interval_policy,
                # one resource or account failing must not keep the others from loading
                trigger_rule="all_done",
            )
            if previous is not None:
                previous >> run[0]  # accounts one after another: they share the pipeline's state
            previous = run[-1]
        views = PythonOperator(
            task_id="analyst_views",
            python_callable=create_views,
            op_args=[pipeline_name, destination, dataset_name],
            trigger_rule="all_done",
        )
        tasks >> views
        # with all_done everywhere the last task would succeed over failed ones: this one fails the run
        verdict = PythonOperator(
            task_id="all_loaded", python_callable=report_failures, trigger_rule="one_failed", retries=0
        )
        for task in dag.tasks:
            if task is not verdict:
                task >> verdict  # directly: one_failed looks at direct upstream tasks only
    return dag


def report_failures() -> None:
    """Runs only when a task before it failed (trigger rule one_failed), so the DAG run is marked failed."""
    raise SourceError("a resource or account failed to load; the other tasks ran (see their logs)")


dag = build_dag()
