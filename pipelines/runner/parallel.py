"""Run account units side by side in threads (one dlt pipeline per thread; threads, not processes, so
8 accounts share one copy of dlt): extract and normalize in parallel, load in turn (`gate.py`)."""

import collections
import threading
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence

import pyarrow as pa

from pipelines.runner.accounts import Unit

#: accounts synced at once by default: enough to fill a destination's turns while others wait on their
#: rate limits, few enough that their buffers stay within a few hundred MB (docs/operations.md)
DEFAULT_MAX_PARALLEL_ACCOUNTS = 8


@dataclass
class UnitOutcome:
    """What one unit did: rows loaded per table, or the failure that stopped it."""

    unit: Unit
    rows: Dict[str, int] = field(default_factory=dict)
    #: rows of an earlier run's packages this run loaded first
    pending_rows: Dict[str, int] = field(default_factory=dict)
    error: Optional[BaseException] = None
    #: what the unit did besides loading (packages discarded with --drop-pending)
    notes: List[str] = field(default_factory=list)


def run_units(
    units: Sequence[Unit],
    work: Callable[[Unit, UnitOutcome], None],
    max_parallel: int,
    stops_all: Callable[[BaseException], bool],
) -> List[UnitOutcome]:
    """`work(unit, outcome)` for every unit, at most `max_parallel` at once; outcomes in unit order.

    A failure for which `stops_all` is true (the destination's, a bug) starts no further unit; the ones
    running finish. Other failures (one account's credentials, its API) are recorded and the rest go on.
    """
    outcomes = [UnitOutcome(unit) for unit in units]
    todo = collections.deque(outcomes)  # shared by the threads: `popleft` is thread-safe
    stop = threading.Event()

    def worker() -> None:
        while todo and not stop.is_set():  # an earlier unit's failure: no further unit starts
            try:
                outcome = todo.popleft()
            except IndexError:  # another thread took the last one
                return
            try:
                work(outcome.unit, outcome)
            except BaseException as exc:  # noqa: BLE001 - kept and judged by the caller, incl. KeyboardInterrupt
                outcome.error = exc
                if stops_all(exc):
                    stop.set()

    if max_parallel <= 1 or len(units) == 1:
        worker()
        return outcomes
    # pyarrow imports pandas (where installed, e.g. with the BigQuery extra) on its first `pa.array`;
    # two threads doing that at once can get a half-imported module: import it here, once
    pa.array([0])
    # daemon threads: on Ctrl-C the main thread ends the run at once (exit 130) instead of waiting for
    # the accounts still reading; what they extracted stays in their pipeline folders, as after a kill
    threads = [
        threading.Thread(target=worker, name=f"account-{i}", daemon=True) for i in range(min(max_parallel, len(units)))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(timeout=0.5)  # a bounded join keeps the main thread able to take Ctrl-C
    return outcomes
