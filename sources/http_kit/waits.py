"""Every wait of a run in one place: capped, bounded by the run's deadline, logged when long."""

import logging
import time
from typing import Callable, Optional

from sources.http_kit.errors import ApiUnavailableError
from sources.http_kit.limits import LOGGED_WAIT_SECONDS, HttpLimits
from sources.http_kit.traffic import TRAFFIC

logger = logging.getLogger("sources.http_kit.client")


class Waiter:
    """Sleeps on behalf of a client. A wait longer than `max_wait_seconds`, or one that would pass the
    run's deadline, ends the run with one line saying what the API asked for; nothing waits silently.

    `sleep` and `clock` are injectable so no test waits in real time.
    """

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
