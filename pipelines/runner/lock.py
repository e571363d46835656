"""One run per pipeline at a time: an OS lock taken before dlt touches the pipeline's working folder.

Two runs of one pipeline share its working folder and state: on Postgres the second died in its
normalize step and the first reported double counts; on DuckDB the second met the file lock. The
lock is `fcntl.flock` on a file the kernel releases when its holder dies (even by SIGKILL), so a
crashed run never blocks the next; the file also records the holder's pid and start time, for the
message the second run prints and the warning a run taking over after a crash logs.

The file lies beside the working folder, not in it: dlt wipes the working folder (a new pipeline,
state restored from the destination), which would delete a held lock and let a third run in.
"""

import contextlib
import fcntl
import logging
import os
from datetime import datetime, timezone
from typing import IO, Iterator, Optional, Tuple

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


@contextlib.contextmanager
def pipeline_lock(pipelines_dir: str, pipeline_name: str) -> Iterator[None]:
    """Hold the pipeline's lock for the block, or raise RunInProgress at once (no waiting)."""
    os.makedirs(pipelines_dir, exist_ok=True)
    path = lock_path(pipelines_dir, pipeline_name)
    # "a+": never truncates before the lock is ours (the holder's record must stay readable)
    with open(path, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunInProgress(pipeline_name, _read_holder(handle)) from None
        left = _read_holder(handle)
        if left is not None:
            logger.warning(
                "pipeline %s: took over the lock of an earlier run (pid %s, started %s) that ended without"
                " releasing it (killed or crashed)",
                pipeline_name,
                *left,
            )
        _write_holder(handle)
        try:
            yield
        finally:
            # emptied, never deleted: deleting a lock file lets two later runs lock two different files
            handle.truncate(0)
            handle.flush()
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _read_holder(handle: IO[str]) -> Optional[Tuple[int, str]]:
    """The (pid, start time) recorded in the lock file, or None when it is empty or unreadable."""
    handle.seek(0)
    words = handle.read().split()
    if len(words) < 2 or not words[0].isdigit():
        return None
    return int(words[0]), words[1]


def _write_holder(handle: IO[str]) -> None:
    started = datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    handle.seek(0)
    handle.truncate(0)
    handle.write(f"{os.getpid()} {started}\n")
    handle.flush()
