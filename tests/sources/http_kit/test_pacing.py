"""How long a 429 makes us wait (the announced reset, else Retry-After, else the backoff), and every
wait capped, bounded by the run's deadline and logged when long; no real time passes."""

import logging
from email.utils import formatdate

import pytest

from sources.http_kit import ApiUnavailableError, RateLimitPacer
from sources.http_kit.config import HttpLimits
from sources.http_kit.pacing import Waiter
from tests.support.clock import FakeClock

NOW = 1_700_000_000.0


def pacer() -> RateLimitPacer:
    return RateLimitPacer(clock=lambda: NOW)


def test_the_reset_header_wins() -> None:
    assert pacer().wait_after_429({"X-Rate-Limit-Reset": str(int(NOW) + 4), "Retry-After": "30"}, 9.0) == 4.05


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert pacer().wait_after_429({"Retry-After": "3"}, 9.0) == 3.0
    assert pacer().wait_after_429({"Retry-After": formatdate(NOW + 7, usegmt=True)}, 9.0) == 7.0
    assert pacer().wait_after_429({"Retry-After": "0"}, 9.0) == 0.05  # never a busy loop


def test_without_either_header_the_backoff_is_used() -> None:
    assert pacer().wait_after_429({}, 9.0) == 9.0
    assert pacer().wait_after_429({"Retry-After": "soon"}, 9.0) == 9.0


def test_a_reset_time_out_of_range_counts_as_none_given() -> None:
    for value in ("inf", "-inf", "1e400", "nan"):
        headers = {"X-Rate-Limit-Reset": value, "X-Rate-Limit-Remaining": "0"}
        assert pacer().wait_after_429(headers, 9.0) == 9.0, value
        paced = pacer()
        paced.observe(headers)
        assert paced.before_request(lambda seconds, why: None) == 0.0, value  # no budget announced: no wait


def waiter(clock: FakeClock, **limits) -> Waiter:
    return Waiter(HttpLimits(**limits), "sources.acme", clock.sleep, clock)


def test_short_waits_sleep_quietly_and_long_ones_log_one_line(caplog) -> None:
    clock = FakeClock()
    w = waiter(clock)
    with caplog.at_level(logging.WARNING):
        w.wait("GET x", 0.5, "backoff")
        w.wait("GET x", 42.0, "429 Too Many Requests")
    assert clock.slept == [0.5, 42.0] and w.waited_seconds == 42.5
    assert [r.getMessage() for r in caplog.records] == ["GET x: waiting 42.0 s: 429 Too Many Requests"]


def test_a_wait_past_the_cap_is_refused_without_sleeping() -> None:
    clock = FakeClock()
    with pytest.raises(ApiUnavailableError) as err:
        waiter(clock, max_wait_seconds=60).wait("GET x", 86400 * 400, "Retry-After")
    assert clock.slept == []
    assert str(err.value) == (
        "GET x: the API asked to wait 400 days (Retry-After); the longest wait allowed is 60.0 s"
        " (sources.acme.http.max_wait_seconds)"
    )


def test_the_deadline_stops_a_wait_or_a_request_it_leaves_no_time_for() -> None:
    clock = FakeClock()
    w = waiter(clock, deadline_seconds=100)
    w.wait("GET x", 60, "backoff")
    with pytest.raises(ApiUnavailableError, match="leaves no time for a wait of 50.0 s"):
        w.wait("GET x", 50, "backoff")
    w.check_deadline("GET x")  # 60 of 100 s used: a request still fits
    clock.now += 41
    with pytest.raises(ApiUnavailableError, match=r"deadline of 100.0 s \(sources.acme.http.deadline_seconds\)"):
        w.check_deadline("GET x")


def test_limits_are_checked_with_their_key() -> None:
    from sources.http_kit import ConfigError

    with pytest.raises(ConfigError, match="sources.acme.http.max_wait_seconds: 0"):
        HttpLimits(max_wait_seconds=0).checked("sources.acme")
    assert HttpLimits(max_response_mb=0.5).checked("sources.acme").max_response_bytes == 512 * 1024


def test_a_wait_its_caller_already_announced_is_not_logged_twice(caplog) -> None:
    clock = FakeClock()
    with caplog.at_level(logging.WARNING):
        waiter(clock).wait("GET x", 30.0, "backoff after HTTP 503", logged=True)
    assert clock.slept == [30.0] and caplog.records == []
