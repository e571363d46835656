"""The fixed rate window, driven by a fake clock (no sleeping)."""

from __future__ import annotations

from sandbox.base.rate import RateWindow


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_unlimited_window_decides_nothing() -> None:
    assert RateWindow(None, 60, clock=FakeClock(0)).consume() is None


def test_limit_within_one_window_then_reset_at_the_boundary() -> None:
    clock = FakeClock(1_000_010.0)  # window [999_960, 1_000_020) for 60 s windows
    rate = RateWindow(2, 60, clock=clock)
    first, second, third = rate.consume(), rate.consume(), rate.consume()
    assert first and second and third
    assert [d.allowed for d in (first, second, third)] == [True, True, False]
    assert [d.remaining for d in (first, second, third)] == [1, 0, 0]
    assert third.reset_at == 1_000_020.0 and third.retry_after == 10
    clock.now = 1_000_020.0  # the next window starts fresh
    fourth = rate.consume()
    assert fourth is not None and fourth.allowed and fourth.remaining == 1 and fourth.reset_at == 1_000_080.0


def test_refusals_do_not_use_up_the_next_window() -> None:
    clock = FakeClock(0.0)
    rate = RateWindow(1, 10, clock=clock)
    assert [rate.consume().allowed for _ in range(5)] == [True, False, False, False, False]  # type: ignore[union-attr]
    clock.now = 10.0
    assert rate.consume().allowed  # type: ignore[union-attr]


def test_retry_after_rounds_up_and_is_at_least_one_second() -> None:
    clock = FakeClock(59.99)
    rate = RateWindow(0, 60, clock=clock)
    decision = rate.consume()
    assert decision is not None and not decision.allowed and decision.retry_after == 1
    clock.now = 60.5
    decision = rate.consume()
    assert decision is not None and decision.retry_after == 60
