"""How long a 429 makes us wait: the announced reset, else Retry-After, else the backoff."""

from email.utils import formatdate

from sources.http_kit import RateLimitPacer

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
