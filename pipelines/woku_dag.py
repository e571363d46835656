"""Airflow DAG `woku_sync`: every configured Woku company, one mapped task each. Copy this file
into the DAGs folder (how to deploy it, its shape and settings: pipelines/airflow_dag.py)."""

from pipelines.airflow_dag import build_dag
from pipelines.vendors import WOKU

DAG_ID = "woku_sync"

dag = build_dag(WOKU, DAG_ID)
