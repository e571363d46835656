"""`status` logic without a warehouse or a wait: durations, ages and staleness against a fixed clock."""

import argparse
from datetime import datetime, timedelta, timezone

import dlt
import pytest

from pipelines.runner.status import TableStatus, _pending_packages, human_age, parse_max_age, run_status, stale
from pipelines.vendors import WOOTRIC
from sources.http_kit import ConfigError

NOW = datetime(2025, 3, 2, 4, 10, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("26h", timedelta(hours=26)),
        ("90m", timedelta(minutes=90)),
        ("2d", timedelta(days=2)),
        ("1d12h", timedelta(hours=36)),
        ("45s", timedelta(seconds=45)),
    ],
)
def test_max_age_forms(text: str, expected: timedelta) -> None:
    assert parse_max_age(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", " ", "26", "soon", "0h", "2w", "h26", "1h1h", "1m2h", "1H", "2D", "99999999999999999999d", "1000000000d"],
)
def test_max_age_refused(text: str) -> None:
    with pytest.raises(ConfigError, match="--max-age"):
        parse_max_age(text)


def test_an_empty_max_age_on_the_command_line_is_refused(workdir) -> None:
    args = argparse.Namespace(max_age="", destination="duckdb", dataset_name="wootric", pipeline_name="wootric")
    with pytest.raises(ConfigError, match="--max-age"):
        run_status(WOOTRIC, args)


def table(loaded_ago: timedelta | None) -> TableStatus:
    return TableStatus("default", "responses", 10, None, None, NOW - loaded_ago if loaded_ago else None)


def test_stale_is_older_than_the_limit_or_never_loaded() -> None:
    limit = timedelta(hours=26)
    assert stale([table(timedelta(hours=25, minutes=59))], NOW, limit) == []
    assert len(stale([table(timedelta(hours=26, seconds=1))], NOW, limit)) == 1
    assert len(stale([table(None)], NOW, limit)) == 1


def test_human_age() -> None:
    assert human_age(timedelta(days=2, hours=3, minutes=5)) == "2d 3h"
    assert human_age(timedelta(minutes=119)) == "1h 59m"
    assert human_age(timedelta(seconds=-3)) == "0s"


def test_pending_packages_are_counted_by_stage(tmp_path) -> None:
    pipeline = dlt.pipeline("wootric-a", pipelines_dir=str(tmp_path), destination="duckdb", dataset_name="w")
    folder = str(tmp_path / "wootric-a")
    assert _pending_packages(folder) == (0, 0)
    pipeline.extract([{"id": 1}], table_name="t")
    pipeline.normalize()
    pipeline.extract([{"id": 2}], table_name="t")
    assert _pending_packages(folder) == (1, 1)  # one extracted, one normalized: neither loaded
    assert _pending_packages(str(tmp_path / "elsewhere")) == (0, 0)
