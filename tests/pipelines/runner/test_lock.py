"""The per-pipeline run lock: held, refused, released, and taken over after a holder that died; its
holder record (pid, start time) and the last run's record lie beside the lock file."""

import argparse
import logging
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from filelock import FileLock

from pipelines.runner.cli import EXIT_CONFIG, EXIT_IN_PROGRESS, exit_code
from pipelines.runner.lock import RunInProgress, holder_path, lock_path, pipeline_lock, read_record, recorded_run
from sources.http_kit import ConfigError

NOW = datetime(2025, 3, 2, 4, 10, tzinfo=timezone.utc)


def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(child.stdout)


def test_a_second_holder_is_refused_with_the_first_ones_pid(tmp_path: Path) -> None:
    with pipeline_lock(str(tmp_path), "wootric"):
        # the OS lock belongs to an open file: a second open in this process is a second run
        with pytest.raises(RunInProgress) as refused, pipeline_lock(str(tmp_path), "wootric"):
            pytest.fail("the second holder got the lock")
        message = str(refused.value)
        assert message.startswith(f"another run of pipeline wootric (pid {os.getpid()}, started 20")
        assert message.endswith("Z) is in progress")
        assert exit_code(refused.value) == EXIT_IN_PROGRESS == 7
        with pipeline_lock(str(tmp_path), "wootric_trackers"):  # another pipeline: its own lock
            pass
    with pipeline_lock(str(tmp_path), "wootric"):  # released on exit
        pass
    assert Path(holder_path(str(tmp_path), "wootric")).read_text() == ""  # emptied, not deleted


def test_a_lock_left_by_a_dead_run_is_taken_over_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    gone = dead_pid()
    Path(holder_path(str(tmp_path), "wootric")).write_text(f"{gone} 2024-01-01T00:00:00Z\n")
    with caplog.at_level(logging.WARNING), pipeline_lock(str(tmp_path), "wootric"):
        assert Path(holder_path(str(tmp_path), "wootric")).read_text().split()[0] == str(os.getpid())
    assert f"pid {gone}, started 2024-01-01T00:00:00Z" in caplog.text
    assert "took over" in caplog.text


def test_the_lock_is_not_taken_while_another_process_holds_it(tmp_path: Path) -> None:
    """Whatever the holder record says, a held lock refuses; a lock file no process locks does not."""
    path = lock_path(str(tmp_path), "wootric")
    with FileLock(path):
        refused = pytest.raises(RunInProgress, match=r"\(pid \?, started unknown\)")
        with refused, pipeline_lock(str(tmp_path), "wootric"):
            pass
    with pipeline_lock(str(tmp_path), "wootric"):
        pass


def args() -> argparse.Namespace:
    return argparse.Namespace(pipeline_name="wootric", destination="duckdb", dataset_name="wootric")


def test_record_of_a_success_a_failure_and_none_for_a_refused_run(tmp_path) -> None:
    times = iter([NOW, NOW + timedelta(seconds=12)])
    with recorded_run(str(tmp_path), args(), clock=lambda: next(times)):
        pass
    record = read_record(str(tmp_path), "wootric")
    assert record["exit_status"] == 0 and record["ended_at"] == "2025-03-02T04:10:12+00:00"

    with pytest.raises(ConfigError), recorded_run(str(tmp_path), args(), clock=lambda: NOW):
        raise ConfigError("sources.wootric.per_page: 51 is not a whole number")
    record = read_record(str(tmp_path), "wootric")
    assert record["exit_status"] == EXIT_CONFIG and "per_page" in record["error"]

    with pytest.raises(RunInProgress), recorded_run(str(tmp_path), args(), clock=lambda: NOW):
        raise RunInProgress("wootric", (1, "x"))
    assert read_record(str(tmp_path), "wootric")["exit_status"] == EXIT_CONFIG  # the other run's to write
