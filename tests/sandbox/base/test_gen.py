"""Generator helpers: seeded, in range, and the GC switch restored."""

from __future__ import annotations

import gc
import random

import pytest

from sandbox.base.gen import no_gc, pick, rand_int


def test_rand_int_and_pick_are_seeded_and_in_range() -> None:
    a, b = random.Random(4), random.Random(4)
    draws = [rand_int(a, 10, 13) for _ in range(300)]
    assert draws == [rand_int(b, 10, 13) for _ in range(300)]
    assert set(draws) == {10, 11, 12}
    assert {pick(a, "xyz") for _ in range(300)} == {"x", "y", "z"}


def test_no_gc_restores_the_collector_even_on_error() -> None:
    assert gc.isenabled()
    with pytest.raises(RuntimeError), no_gc():
        assert not gc.isenabled()
        raise RuntimeError
    assert gc.isenabled()
