"""The rule the DAG applies before each task (the DAG itself is run by Airflow in test_wootric_dag.py)."""

from enum import Enum

from pipelines.intervals import loads_its_interval


class RunType(str, Enum):  # noqa: UP042 - shaped like Airflow's DagRunType
    BACKFILL_JOB = "backfill"
    SCHEDULED = "scheduled"
    MANUAL = "manual"


def test_only_backfills_are_bounded_by_their_interval() -> None:
    assert loads_its_interval(RunType.BACKFILL_JOB, None)
    assert loads_its_interval("backfill", {})
    assert not loads_its_interval(RunType.SCHEDULED, None)
    assert not loads_its_interval(RunType.MANUAL, {})
    assert not loads_its_interval(None, None)


def test_a_trigger_can_ask_for_its_interval() -> None:
    assert loads_its_interval("manual", {"backfill": True})
    assert not loads_its_interval("manual", {"backfill": False})
