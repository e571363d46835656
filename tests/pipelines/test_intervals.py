"""The rule the DAG applies before each task (the DAG itself is run by Airflow in test_wootric_dag.py)."""

from datetime import datetime, timezone
from enum import Enum

import pytest

from pipelines.intervals import check_interval, executor_name, loads_its_interval
from sources.http_kit import ConfigError


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


def test_a_backfill_over_an_empty_interval_stops_with_the_reason() -> None:
    day = datetime(2024, 3, 11, tzinfo=timezone.utc)
    with pytest.raises(ConfigError, match="needs a data interval"):
        check_interval(True, day, day)
    with pytest.raises(ConfigError, match="needs a data interval"):
        check_interval(True, None, None)
    check_interval(True, day, day.replace(day=12))
    check_interval(False, None, None)  # state-based runs need no interval


@pytest.mark.parametrize(
    ("setting", "name"),
    [
        ("LocalExecutor", "LocalExecutor"),
        (" CeleryExecutor ", "CeleryExecutor"),
        ("CeleryExecutor,KubernetesExecutor", "CeleryExecutor"),
        ("airflow.executors.local_executor.LocalExecutor", "LocalExecutor"),
        ("mine:my_company.executors.MyExecutor", "MyExecutor"),
        ("mine:my_company.executors.MyExecutor,LocalExecutor", "MyExecutor"),
    ],
)
def test_the_executor_is_named_by_its_class(setting: str, name: str) -> None:
    assert executor_name(setting) == name
