"""One writer at a time per destination: accounts extract and normalize in parallel, but load in turn.

DuckDB takes one writer per file; dlt merges through one staging dataset per dataset, so two merges
at once would truncate each other's staging tables (and can deadlock on PostgreSQL). The gate is a
lock per destination within the process, plus, across processes, a file lock beside the DuckDB file
or a PostgreSQL advisory lock on the dataset; every wait is bounded and logged. BigQuery takes no
lock: each account merges through its own staging dataset (pipelines/warehouse/bigquery.py).
"""

import contextlib
import logging
import os
import threading
import time
import zlib
from typing import Any, Callable, ContextManager, Dict, Iterator, Optional

from filelock import FileLock, Timeout

from sources.http_kit import SourceError
from sources.http_kit.pacing import LOGGED_WAIT_SECONDS

logger = logging.getLogger(__name__)

#: the longest a load waits for its turn before the run gives up (a stuck writer elsewhere)
MAX_TURN_WAIT_SECONDS = 1800.0
POLL_SECONDS = 0.5

_LOCKS: Dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


class TurnTimeout(SourceError):
    """Another writer held the destination for longer than the run waits."""


class DestinationGate:
    """`with gate.turn(label):` around anything that writes to (or opens) the destination."""

    def __init__(
        self,
        key: str,
        duckdb_path: Optional[str] = None,
        postgres: Optional[Callable[[], Any]] = None,
        *,
        max_wait: float = MAX_TURN_WAIT_SECONDS,
    ) -> None:
        self.key = key
        self._duckdb_path = duckdb_path
        #: opens a sql_client on the destination (PostgreSQL): the advisory lock lives in its session
        self._postgres = postgres
        self._max_wait = max_wait

    @contextlib.contextmanager
    def turn(self, label: str) -> Iterator[None]:
        started = time.monotonic()
        with _LOCKS_GUARD:
            lock = _LOCKS.setdefault(self.key, threading.Lock())
        if not lock.acquire(timeout=self._max_wait):
            raise TurnTimeout(f"{label}: waited {self._max_wait:.0f}s for another load into {self.key} to end")
        try:
            with self._across_processes(label, started):
                waited = time.monotonic() - started
                if waited >= LOGGED_WAIT_SECONDS:
                    logger.warning("%s: waited %.1fs for its turn to write to %s", label, waited, self.key)
                yield
        finally:
            lock.release()

    def _across_processes(self, label: str, started: float) -> ContextManager[Any]:
        if self._duckdb_path:
            return self._file_lock(label, started)
        if self._postgres is not None:
            return self._advisory_lock(label, started)
        return contextlib.nullcontext()

    def _timeout(self, label: str) -> TurnTimeout:
        return TurnTimeout(f"{label}: waited {self._max_wait:.0f}s for another process loading into {self.key} to end")

    @contextlib.contextmanager
    def _file_lock(self, label: str, started: float) -> Iterator[None]:
        path = f"{self._duckdb_path}.load.lock"
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        try:
            held = FileLock(path).acquire(timeout=max(0.0, self._max_wait - (time.monotonic() - started)))
        except Timeout:
            raise self._timeout(label) from None
        with held:  # released when the block ends
            yield

    @contextlib.contextmanager
    def _advisory_lock(self, label: str, started: float) -> Iterator[None]:
        key = zlib.crc32(self.key.encode()) & 0x7FFFFFFF
        with self._postgres() as sql:
            # polled, not `pg_advisory_lock` under `lock_timeout`: Ctrl-C cannot end a wait inside libpq
            while not sql.execute_sql("SELECT pg_try_advisory_lock(%s)", key)[0][0]:
                if time.monotonic() - started >= self._max_wait:
                    raise self._timeout(label)
                time.sleep(POLL_SECONDS)
            try:
                yield
            finally:
                sql.execute_sql("SELECT pg_advisory_unlock(%s)", key)
