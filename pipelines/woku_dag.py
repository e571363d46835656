"""Airflow DAG `woku_sync`: every configured Woku company, each mapped to a task of its own that loads its
resources one after another, every day, with retries (the shape and settings: pipelines/airflow_dag.py).

Deploy: `pip install 'feedback-connectors[airflow]'` on the workers and copy this file into the DAGs
folder. Settings are dlt config keys (`WOKU_DAG__DESTINATION`, `__DATASET_NAME`, `__SCHEDULE`,
`__RETRIES`, `__MAX_ACTIVE_TASKS`, `__POOL`: a pool you created, which lets accounts load into BigQuery
side by side); credentials come from dlt (environment variables, the `.dlt` folder, or the Airflow
Variable `dlt_secrets_toml`). A DuckDB destination needs LocalExecutor: its file stays on one machine.
"""

from pipelines.airflow_dag import build_dag
from pipelines.vendors import WOKU

DAG_ID = "woku_sync"

dag = build_dag(WOKU, DAG_ID, __doc__)
