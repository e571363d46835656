"""Process-wide totals of HTTP traffic, so a progress line can show requests and waits for every
client of a run (each account, each vendor) without holding on to the clients."""

import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class Totals:
    requests: int = 0
    retries: int = 0
    #: seconds slept for rate limits (pacing, 429) and backoff
    waited_seconds: float = 0.0


class Traffic:
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
