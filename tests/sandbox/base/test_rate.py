"""The fixed rate window, driven by a fake clock (no sleeping)."""

from __future__ import annotations

from sandbox.base.rate import RateWindow
from tests.sandbox.support import FakeTime


def test_unlimited_window_decides_nothing() -> None:
    assert RateWindow(None, 60, clock=FakeTime(0).clock).consume() is None


def test_limit_within_one_window_then_reset_at_the_boundary() -> None:
    time = FakeTime(1_000_010.0)  # window [999_960, 1_000_020) for 60 s windows
    rate = RateWindow(2, 60, clock=time.clock)
    first, second, third = rate.consume(), rate.consume(), rate.consume()
    assert first and second and third
    assert [d.allowed for d in (first, second, third)] == [True, True, False]
    assert [d.remaining for d in (first, second, third)] == [1, 0, 0]
    assert third.reset_at == 1_000_020.0 and third.retry_after == 10
    time.now = 1_000_020.0  # the next window starts fresh
    fourth = rate.consume()
    assert fourth is not None and fourth.allowed and fourth.remaining == 1 and fourth.reset_at == 1_000_080.0


def test_refusals_do_not_use_up_the_next_window() -> None:
    time = FakeTime(0.0)
    rate = RateWindow(1, 10, clock=time.clock)
    assert [rate.consume().allowed for _ in range(5)] == [True, False, False, False, False]  # type: ignore[union-attr]
    time.now = 10.0
    assert rate.consume().allowed  # type: ignore[union-attr]


def test_retry_after_rounds_up_and_is_at_least_one_second() -> None:
    time = FakeTime(59.99)
    rate = RateWindow(0, 60, clock=time.clock)
    decision = rate.consume()
    assert decision is not None and not decision.allowed and decision.retry_after == 1
    time.now = 60.5
    decision = rate.consume()
    assert decision is not None and decision.retry_after == 60
