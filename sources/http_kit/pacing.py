"""When a request may go and how long a run waits: pacing from the server's rate-limit headers, backoff
for retries, and every wait capped, bounded by the run's deadline, logged when long and counted."""

import logging
import random
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Callable, Mapping, Optional

from sources.http_kit.config import HttpLimits
from sources.http_kit.errors import ApiUnavailableError

logger = logging.getLogger("sources.http_kit.client")

#: waits at least this long are logged, one line each
LOGGED_WAIT_SECONDS = 5.0


@dataclass(frozen=True)
class RetryPolicy:
    """Capped exponential backoff with jitter for transient failures; 429s have their own count."""

    max_attempts: int = 6
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    max_rate_limit_waits: int = 20

    def delay(self, attempt: int) -> float:
        """Seconds to sleep after failed attempt number `attempt` (1-based)."""
        ceiling = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
        return ceiling * (0.5 + random.random() / 2)


@dataclass(frozen=True)
class Totals:
    requests: int = 0
    retries: int = 0
    #: seconds slept for rate limits (pacing, 429) and backoff
    waited_seconds: float = 0.0


class Traffic:
    """Process-wide totals: the progress line shows every client's requests and waits."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._totals = Totals()

    def add(self, requests: int = 0, retries: int = 0, waited_seconds: float = 0.0) -> None:
        with self._lock:
            t = self._totals
            self._totals = Totals(t.requests + requests, t.retries + retries, t.waited_seconds + waited_seconds)

    def totals(self) -> Totals:
        return self._totals


#: every ApiClient of the process adds to this
TRAFFIC = Traffic()


class Waiter:
    """Sleeps for a client. A wait longer than `max_wait_seconds`, or past the run's deadline, ends the
    run with one line saying what the API asked for; nothing waits silently."""

    def __init__(
        self,
        limits: HttpLimits,
        section: str,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = limits
        self.section = section
        self.sleep = sleep
        self._clock = clock
        self._deadline: Optional[float] = clock() + limits.deadline_seconds if limits.deadline_seconds else None
        #: seconds slept for rate limits and backoff (shown by the progress line)
        self.waited_seconds = 0.0

    def wait(self, where: str, seconds: float, why: str, *, logged: bool = False) -> None:
        """Sleep `seconds`; `logged` when the caller has already said why in a line of its own."""
        if seconds <= 0:
            return
        if seconds > self.limits.max_wait_seconds:
            raise ApiUnavailableError(
                f"{where}: the API asked to wait {_duration(seconds)} ({why}); the longest wait allowed is"
                f" {_duration(self.limits.max_wait_seconds)} ({self.section}.http.max_wait_seconds)",
                detail=f"asked to wait {_duration(seconds)} ({why})",
            )
        self.check_deadline(where, seconds)
        if seconds >= LOGGED_WAIT_SECONDS and not logged:
            logger.warning("%s: waiting %s: %s", where, _duration(seconds), why)
        self.waited_seconds += seconds
        TRAFFIC.add(waited_seconds=seconds)
        self.sleep(seconds)

    def check_deadline(self, where: str, upcoming: float = 0.0) -> None:
        """Stop before a request or a wait that the run's deadline does not leave time for."""
        if self._deadline is None:
            return
        if self._clock() + upcoming > self._deadline:
            raise ApiUnavailableError(
                f"{where}: the run's deadline of {_duration(self.limits.deadline_seconds or 0)}"
                f" ({self.section}.http.deadline_seconds) leaves no time"
                + (f" for a wait of {_duration(upcoming)}" if upcoming else " for another request"),
                detail="deadline reached",
            )


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 2 * 86400:
        return f"{seconds / 60:,.0f} min"
    return f"{seconds / 86400:,.0f} days"


class RateLimitPacer:
    """One budget per account, shared by every thread that calls the API: requests sent but not yet
    answered count against the announced budget, and a spent budget waits for the reset, not a 429."""

    #: the headers that announce the budget; the reset is an epoch second
    REMAINING, RESET = "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset"
    #: seconds past the announced reset before a request goes
    reset_margin = 0.05

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._remaining: Optional[int] = None
        self._reset_at: Optional[float] = None
        #: server clock minus ours, when they disagree by more than the Date header's resolution
        self._skew = 0.0

    def before_request(self, wait: Callable[[float, str], None]) -> float:
        """Block until the budget allows one more request, then reserve it; returns the seconds waited
        (`wait(seconds, why)` does the waiting, capped by the client)."""
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
        remaining = _int_header(response_headers, self.REMAINING)
        reset = _int_header(response_headers, self.RESET)
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
        reset = _int_header(response_headers, self.RESET)
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
