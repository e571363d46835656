"""dlt's own Airflow helper: a `PipelineTasksGroup` per account with `decompose="serialize"` (one task per
resource, one after another). dlt builds the tasks from the source when the DAG is parsed, so accounts are
read at parse time (a new account needs the DAG re-parsed) and nothing is mapped at run time."""

import dlt
import pendulum
from airflow.sdk import DAG
from dlt.helpers.airflow_helper import PipelineTasksGroup

from pipelines.runner.accounts import plan_units
from pipelines.vendors import WOOTRIC
from pipelines.warehouse.destinations import destination_for

DATASET = dlt.config.get("wootric_dag.dataset_name")

with DAG("shape_tasksgroup", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), catchup=False) as dag:
    for unit in plan_units(WOOTRIC, "wootric", None, None):
        group = PipelineTasksGroup(unit.pipeline_name, use_data_folder=False, wipe_local_data=True)
        pipeline = dlt.pipeline(
            unit.pipeline_name,
            destination=destination_for("postgres", DATASET, account=unit.account),
            dataset_name=DATASET,
        )
        group.add_run(pipeline, unit.source, decompose="serialize", trigger_rule="all_done", retries=0)
