"""Fixed, epoch-aligned rate windows (``limit`` requests per ``window`` seconds).

Vendors differ only in how they announce the decision (headers, ``Retry-After``), so the
window itself lives here, with an injectable clock for tests.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], float]


@dataclass(frozen=True)
class RateDecision:
    """The outcome of one request against the window."""

    allowed: bool
    limit: int
    remaining: int
    reset_at: float  # epoch seconds at which the current window ends
    now: float

    @property
    def retry_after(self) -> int:
        """Whole seconds until the window resets, at least 1 (what a ``Retry-After`` header carries)."""
        return max(1, math.ceil(self.reset_at - self.now))


class RateWindow:
    """Counts admitted requests in the current window; ``limit=None`` admits everything."""

    def __init__(self, limit: int | None, window: float = 60.0, *, clock: Clock = time.time) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._lock = threading.Lock()
        self._current = -1
        self._used = 0

    def consume(self) -> RateDecision | None:
        """Admit or refuse one request; None when unlimited (no rate headers at all)."""
        if self.limit is None:
            return None
        with self._lock:
            now = self.clock()
            current = math.floor(now / self.window)
            if current != self._current:
                self._current, self._used = current, 0
            allowed = self._used < self.limit
            if allowed:
                self._used += 1
            remaining = max(self.limit - self._used, 0)
        return RateDecision(allowed, self.limit, remaining, (current + 1) * self.window, now)
