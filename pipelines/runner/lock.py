"""One run per pipeline at a time, and what `status` knows of the last run on this machine.

The lock is `filelock`'s on `<pipeline>.lock`, taken before dlt touches the pipeline's folder; the OS
releases it when its holder dies (even by SIGKILL). Beside it, `<pipeline>.holder` holds the holder's
pid and start time (emptied when the run ends: a record left means a run that died), and
`<pipeline>.last_run.json` the outcome of the last run that ended. All three lie beside the working
folder, not in it: dlt may wipe the folder, which would delete a held lock and let a third run in.
"""

import argparse
import contextlib
import json
import logging
import os
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Iterator, Optional, Tuple

from filelock import FileLock, Timeout

from pipelines.runner.cli import EXIT_FAILED, EXIT_IN_PROGRESS, EXIT_INTERRUPTED, FailureWithStatus, explain
from sources.http_kit import one_line, redact

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]


class RunInProgress(FailureWithStatus):
    """Another run of the same pipeline (same name and pipelines folder) holds the lock."""

    def __init__(self, pipeline_name: str, holder: Optional[Tuple[int, str]]) -> None:
        pid, started = holder if holder else ("?", "unknown")
        message = f"another run of pipeline {pipeline_name} (pid {pid}, started {started}) is in progress"
        super().__init__(message, EXIT_IN_PROGRESS)
        self.pipeline_name = pipeline_name


def lock_path(pipelines_dir: str, pipeline_name: str) -> str:
    """A file, so dlt's pipeline listing (folders) skips it."""
    return os.path.join(pipelines_dir, f"{pipeline_name}.lock")


def holder_path(pipelines_dir: str, pipeline_name: str) -> str:
    return os.path.join(pipelines_dir, f"{pipeline_name}.holder")


def record_path(pipelines_dir: str, pipeline_name: str) -> str:
    return os.path.join(pipelines_dir, f"{pipeline_name}.last_run.json")


@contextlib.contextmanager
def pipeline_lock(pipelines_dir: str, pipeline_name: str) -> Iterator[None]:
    """Hold the pipeline's lock for the block, or raise RunInProgress at once (no waiting)."""
    os.makedirs(pipelines_dir, exist_ok=True)
    lock = FileLock(lock_path(pipelines_dir, pipeline_name))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise RunInProgress(pipeline_name, read_holder(pipelines_dir, pipeline_name)) from None
    try:
        left = read_holder(pipelines_dir, pipeline_name)
        if left is not None:
            logger.warning(
                "pipeline %s: took over the lock of an earlier run (pid %s, started %s) that ended without"
                " releasing it (killed or crashed)",
                pipeline_name,
                *left,
            )
        started = datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        _write_holder(pipelines_dir, pipeline_name, f"{os.getpid()} {started}\n")
        yield
    finally:
        _write_holder(pipelines_dir, pipeline_name, "")
        lock.release()


def read_holder(pipelines_dir: str, pipeline_name: str) -> Optional[Tuple[int, str]]:
    """(pid, start time) of the run holding the lock or killed holding it, or None. Read without taking
    the lock: taking it, even for a moment, would turn away a run starting then."""
    try:
        with open(holder_path(pipelines_dir, pipeline_name), encoding="utf-8") as handle:
            words = handle.read().split()
    except OSError:
        return None
    if len(words) < 2 or not words[0].isdigit():
        return None
    return int(words[0]), words[1]


def _write_holder(pipelines_dir: str, pipeline_name: str, text: str) -> None:
    with open(holder_path(pipelines_dir, pipeline_name), "w", encoding="utf-8") as handle:
        handle.write(text)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@contextlib.contextmanager
def recorded_run(pipelines_dir: str, args: argparse.Namespace, clock: Clock = utc_now) -> Iterator[None]:
    """Record the sync's outcome when it ends in any way but a kill (dlt's own trace of a killed run is
    the run before it's). A run refused by the lock writes nothing: the record is the holder's to write."""
    started = clock()
    try:
        yield
    except RunInProgress:
        raise
    except BaseException as exc:
        explained = explain(exc) if isinstance(exc, Exception) else None
        if isinstance(exc, KeyboardInterrupt):
            explained = ("interrupted", EXIT_INTERRUPTED)
        message, code = explained or (f"unexpected {type(exc).__name__}", EXIT_FAILED)
        _write_record(pipelines_dir, args, started, clock(), code, one_line(redact(message)))
        raise
    _write_record(pipelines_dir, args, started, clock(), 0, "")


def _write_record(
    pipelines_dir: str, args: argparse.Namespace, started: datetime, ended: datetime, code: int, message: str
) -> None:
    record = {
        "destination": args.destination,
        "dataset_name": args.dataset_name,
        "started_at": started.isoformat(),
        "ended_at": ended.isoformat(),
        "exit_status": code,
        "error": message,
    }
    os.makedirs(pipelines_dir, exist_ok=True)
    path = record_path(pipelines_dir, args.pipeline_name)
    with open(f"{path}.tmp", "w", encoding="utf-8") as handle:  # replaced whole: never half a record
        json.dump(record, handle)
    os.replace(f"{path}.tmp", path)


def read_record(pipelines_dir: str, pipeline_name: str) -> Optional[Dict[str, Any]]:
    """The last ended run's record, or None (never run here, or unreadable)."""
    try:
        with open(record_path(pipelines_dir, pipeline_name), encoding="utf-8") as handle:
            record = json.load(handle)
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None
