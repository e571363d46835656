"""Client-side pacing from the server's rate-limit headers, so a run spends its budget without 429s."""

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Callable, Mapping, Optional


@dataclass(frozen=True)
class RateLimitHeaders:
    """Names of the headers an API uses to announce its budget; `reset` is an epoch second."""

    remaining: str = "X-Rate-Limit-Remaining"
    reset: str = "X-Rate-Limit-Reset"


class RateLimitPacer:
    """One budget per account, shared by every thread that calls the same API.

    The server tells how many requests are left in the current window and when it resets. We count
    requests we have sent but not yet heard back from, so concurrent streams cannot overspend, and
    when the budget is spent we sleep until the announced reset instead of provoking a 429.
    """

    def __init__(
        self,
        headers: RateLimitHeaders = RateLimitHeaders(),
        *,
        reset_margin: float = 0.05,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.headers = headers
        self.reset_margin = reset_margin
        self._clock = clock
        self._lock = threading.Lock()
        self._remaining: Optional[int] = None
        self._reset_at: Optional[float] = None
        #: server clock minus ours, when they disagree by more than the Date header's resolution
        self._skew = 0.0

    def before_request(self, wait: Callable[[float, str], None]) -> float:
        """Block until the budget allows one more request, then reserve it; returns the seconds waited.

        `wait(seconds, why)` does the waiting: the client caps, logs and bounds it by the run's deadline.
        """
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock() + self._skew
                if self._reset_at is not None and now >= self._reset_at + self.reset_margin:
                    # a new window has started: the server will tell us the new budget
                    self._remaining, self._reset_at = None, None
                if self._remaining is None or self._remaining > 0:
                    if self._remaining is not None:
                        self._remaining -= 1
                    return waited
                seconds = self._reset_at - now + self.reset_margin
                why = f"the rate-limit budget is spent until its reset at {_utc(self._reset_at)}"
            if seconds > 0:
                waited += seconds
                wait(seconds, why)

    def observe(self, response_headers: Mapping[str, str]) -> None:
        """Take the server's view of the budget from a response."""
        remaining = _int_header(response_headers, self.headers.remaining)
        reset = _int_header(response_headers, self.headers.reset)
        if remaining is None or reset is None:
            return
        self._observe_clock(response_headers.get("Date"))
        with self._lock:
            if self._reset_at is None or reset > self._reset_at:
                self._reset_at, self._remaining = float(reset), remaining
            elif reset == self._reset_at:
                # answers arrive out of order: the smaller count is the more recent truth
                self._remaining = remaining if self._remaining is None else min(self._remaining, remaining)

    def wait_after_429(self, response_headers: Mapping[str, str], fallback: float) -> float:
        """Seconds until the announced reset, else the `Retry-After`; `fallback` when the server names neither."""
        reset = _int_header(response_headers, self.headers.reset)
        self._observe_clock(response_headers.get("Date"))
        with self._lock:
            if reset is None:
                retry_after = _retry_after(response_headers.get("Retry-After"), self._clock() + self._skew)
                return fallback if retry_after is None else max(retry_after, 0.05)
            self._reset_at, self._remaining = float(reset), 0
            wait = reset - (self._clock() + self._skew) + self.reset_margin
            # a reset already past by our clock means the clocks disagree: never retry at once
            return wait if wait > 0 else max(fallback, 1.0)

    def _observe_clock(self, date_header: Optional[str]) -> None:
        """Track the server's clock from its `Date` header (1 s resolution, so small gaps are noise)."""
        if not date_header:
            return
        try:
            server_now = parsedate_to_datetime(date_header).timestamp()
        except (TypeError, ValueError):
            return
        skew = server_now - self._clock()
        self._skew = skew if abs(skew) > 2.0 else 0.0


def _utc(epoch: float) -> str:
    try:
        return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="seconds")
    except (OverflowError, OSError, ValueError):
        return f"epoch {epoch:.0f}"


def _int_header(headers: Mapping[str, str], name: str) -> Optional[int]:
    """The header as a whole number; None when absent or not a finite number (`inf`, `1e400`, `nan`):
    a reset no clock can reach is no reset time given."""
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(float(value))
    except (ValueError, OverflowError):
        return None


def _retry_after(value: Optional[str], now: float) -> Optional[float]:
    """`Retry-After` as seconds: a number, or an HTTP date on the server's clock."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError):
        return None
