"""Airflow DAG `woku_sync`: every configured Woku company, each mapped to a task group of its own,
one task per resource, every day, with retries (the shape and settings: pipelines/airflow_dag.py).

Deploy: `pip install 'feedback-connectors[airflow]'` on the workers and copy this file into the DAGs
folder. Settings are dlt config keys (`WOKU_DAG__DESTINATION`, `__DATASET_NAME`, `__SCHEDULE`,
`__RETRIES`, `__MAX_ACTIVE_TASKS`, `__POOL`); credentials come from dlt (environment variables, the
`.dlt` folder, or the Airflow Variable `dlt_secrets_toml`).
"""

from pipelines.airflow_dag import build_dag
from pipelines.vendors import WOKU

DAG_ID = "woku_sync"

dag = build_dag(WOKU, DAG_ID, __doc__)
