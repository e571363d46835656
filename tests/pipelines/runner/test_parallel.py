"""Accounts side by side: every unit runs, at most N at once, and a fatal failure starts no more."""

import subprocess
import sys
import threading
from pathlib import Path
from typing import List

import pytest

from pipelines.runner.accounts import Unit
from pipelines.runner.parallel import UnitOutcome, run_units

ROOT = Path(__file__).resolve().parents[3]
#: bounded waits: a unit that waits for a partner that never comes fails the test instead of hanging
WAIT = 10.0


def units(n: int) -> List[Unit]:
    return [Unit(f"p-a{i}", source=None, account=f"a{i}") for i in range(n)]


def test_units_run_at_the_same_time() -> None:
    # each unit waits for all the others: only possible when they all run at once
    barrier = threading.Barrier(3, timeout=WAIT)
    seen: List[str] = []

    def work(unit: Unit, outcome: UnitOutcome) -> None:
        barrier.wait()
        seen.append(unit.account or "")
        outcome.rows = {"responses": 1}

    outcomes = run_units(units(3), work, max_parallel=3, stops_all=lambda e: True)
    assert [o for o in outcomes if o.error is not None] == []
    assert sorted(seen) == ["a0", "a1", "a2"]
    assert [o.unit.account for o in outcomes] == ["a0", "a1", "a2"]  # in unit order, whatever finished first


def test_no_more_than_max_parallel_at_once() -> None:
    running, peak, lock = 0, 0, threading.Lock()
    pair = threading.Barrier(2, timeout=WAIT)

    def work(unit: Unit, outcome: UnitOutcome) -> None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        pair.wait()  # two at a time meet here; a third running would make the barrier break
        with lock:
            running -= 1

    outcomes = run_units(units(6), work, max_parallel=2, stops_all=lambda e: True)
    assert [o for o in outcomes if o.error is not None] == [] and peak == 2


def test_one_account_failing_leaves_the_others_running() -> None:
    def work(unit: Unit, outcome: UnitOutcome) -> None:
        if unit.account == "a1":
            raise PermissionError("credentials refused")
        outcome.rows = {"responses": 2}

    outcomes = run_units(units(4), work, max_parallel=2, stops_all=lambda e: False)
    assert [o.unit.account for o in outcomes if o.error is not None] == ["a1"]
    assert [o.rows for o in outcomes if o.error is None] == [{"responses": 2}] * 3


@pytest.mark.parametrize("parallel", [1, 2])
def test_a_fatal_failure_starts_no_further_unit(parallel: int) -> None:
    started: List[str] = []

    def work(unit: Unit, outcome: UnitOutcome) -> None:
        started.append(unit.account or "")
        if unit.account == "a0":
            raise OSError("destination down")

    outcomes = run_units(units(6), work, max_parallel=parallel, stops_all=lambda e: isinstance(e, OSError))
    assert isinstance(outcomes[0].error, OSError)
    # the unit beside a0 (and, at worst, the one after it) may start before the failure is known
    assert "a0" in started and len(started) <= parallel + 1, started


def test_accounts_side_by_side_find_pyarrows_pandas_imported_before_they_start() -> None:
    # pyarrow imports pandas (where installed) on the first `pa.array`; two accounts doing that at once
    # got a half-imported pandas ("partially initialized module 'pandas'"). A fresh interpreter: the
    # worker threads must find it already imported by the main thread.
    pytest.importorskip("pandas")
    script = """
import sys
from pipelines.runner.parallel import run_units
from pipelines.runner.accounts import Unit
seen = []
run_units([Unit("p-a", None, "a"), Unit("p-b", None, "b")], lambda u, o: seen.append("pandas" in sys.modules), 2, bool)
assert seen == [True, True], seen
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
