"""One run per pipeline at a time: an OS lock taken before dlt touches the pipeline's working folder.

Two runs of one pipeline share its working folder and state: on Postgres the second died in its
normalize step and the first reported double counts; on DuckDB the second met the file lock. The
lock is `filelock`'s on `<pipeline>.lock`, which the OS releases when its holder dies (even by
SIGKILL), so a crashed run never blocks the next. Beside it, `<pipeline>.holder` records the
holder's pid and start time, for the message the second run prints, for `status`, and for the
warning a run taking over after a crash logs (a file of its own: filelock may truncate or delete
its lock file, and Windows does not let another process read a locked file).

Both lie beside the working folder, not in it: dlt wipes the working folder (a new pipeline, state
restored from the destination), which would delete a held lock and let a third run in.
"""

import contextlib
import logging
import os
from datetime import datetime, timezone
from typing import Iterator, Optional, Tuple

from filelock import FileLock, Timeout

from sources.http_kit import SourceError

logger = logging.getLogger(__name__)


class RunInProgress(SourceError):
    """Another run of the same pipeline (same name and pipelines folder) holds the lock."""

    def __init__(self, pipeline_name: str, holder: Optional[Tuple[int, str]]) -> None:
        pid, started = holder if holder else ("?", "unknown")
        super().__init__(f"another run of pipeline {pipeline_name} (pid {pid}, started {started}) is in progress")
        self.pipeline_name = pipeline_name


def lock_path(pipelines_dir: str, pipeline_name: str) -> str:
    """`<pipelines_dir>/<pipeline_name>.lock`: a file, so dlt's pipeline listing (folders) skips it."""
    return os.path.join(pipelines_dir, f"{pipeline_name}.lock")


def holder_path(pipelines_dir: str, pipeline_name: str) -> str:
    return os.path.join(pipelines_dir, f"{pipeline_name}.holder")


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
        _write_holder(pipelines_dir, pipeline_name, "")  # emptied: a record left means a run that died
        lock.release()


def read_holder(pipelines_dir: str, pipeline_name: str) -> Optional[Tuple[int, str]]:
    """The (pid, start time) of the run holding the lock or killed holding it; None when there is none.

    Read without taking the lock: taking it, even for a moment, would turn away a run starting then."""
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
