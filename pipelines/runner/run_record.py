"""What `status` knows of the last run on this machine: a small record the runner writes when a sync
ends, and the lock's holder record, which tells a run still going from one that was killed.

dlt's own last trace is saved as a run's steps end, so a run killed mid-extract leaves the trace of
the run before it; the record below is written when a sync ends in any way but a kill, and a kill
leaves its holder record non-empty with a pid that no longer runs (pipelines/runner/lock.py).
"""

import argparse
import contextlib
import json
import os
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Iterator, Optional

from pipelines.runner.cli import EXIT_FAILED, EXIT_INTERRUPTED, explain
from pipelines.runner.lock import RunInProgress, read_holder
from sources.http_kit import one_line, redact

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def record_path(pipelines_dir: str, pipeline_name: str) -> str:
    """Beside the working folder, like the lock: dlt may wipe the folder itself."""
    return os.path.join(pipelines_dir, f"{pipeline_name}.last_run.json")


@contextlib.contextmanager
def recorded_run(pipelines_dir: str, args: argparse.Namespace, clock: Clock = utc_now) -> Iterator[None]:
    """Record the sync's outcome when it ends. A run refused because another holds the lock writes
    nothing: the record is the other run's to write."""
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
        _write(pipelines_dir, args, started, clock(), code, one_line(redact(message)))
        raise
    _write(pipelines_dir, args, started, clock(), 0, "")


def _write(
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
    # written whole or not at all: a reader never sees half a record
    with open(f"{path}.tmp", "w", encoding="utf-8") as handle:
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


def lock_holder(pipelines_dir: str, pipeline_name: str) -> Optional[Dict[str, Any]]:
    """The run holding the lock or killed holding it (`pid`, `started`, `alive`), or None."""
    holder = read_holder(pipelines_dir, pipeline_name)
    if holder is None:
        return None
    return {"pid": holder[0], "started": holder[1], "alive": pid_alive(holder[0])}


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True
