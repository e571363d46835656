"""The floor: the per-account DAG's shape (list accounts, one mapped task per account, one task after
them) with tasks that do nothing, so a run's time is Airflow's own (scheduling, a process per task)."""

import pendulum
from airflow.sdk import DAG, task

with DAG("shape_noop", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), catchup=False) as dag:

    @task
    def accounts() -> list:
        return ["a", "b", "c"]

    @task
    def account(name: str) -> None:
        pass

    @task(trigger_rule="all_done")
    def analyst_views() -> None:
        pass

    account.expand(name=accounts()) >> analyst_views()
