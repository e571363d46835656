"""Airflow DAG `wootric_sync`: every configured Wootric account, one mapped task each. Copy this file
into the DAGs folder (how to deploy it, its shape and settings: pipelines/airflow_dag.py)."""

from pipelines.airflow_dag import build_dag
from pipelines.vendors import WOOTRIC

DAG_ID = "wootric_sync"

dag = build_dag(WOOTRIC, DAG_ID)
