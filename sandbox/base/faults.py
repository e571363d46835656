"""Queued fault injection: the next matching requests fail in a chosen way.

Kinds shared by every sandbox are applied by the request pipeline itself (``reset``, ``slow``,
``truncated``, ``lost_answer``); status kinds (``500``, ``429``...) are rendered by the vendor,
since each API words its errors differently.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

RESET, SLOW, TRUNCATED, LOST_ANSWER = "reset", "slow", "truncated", "lost_answer"
TRANSPORT_KINDS = frozenset({RESET, SLOW, TRUNCATED, LOST_ANSWER})


@dataclass
class Fault:
    """One queued fault; ``every=n`` hits only each n-th matching request."""

    kind: str
    path_prefix: str
    remaining: int
    seconds: float | None = None
    method: str | None = None
    every: int = 1
    seen: int = 0


class FaultQueue:
    """Faults apply in the order they were queued; the first one matching a request is taken.

    ``selectors=False`` is for a sandbox whose faults match by path only (no ``method``/``every``).
    """

    def __init__(self, kinds: Iterable[str], *, default_prefix: str = "/", selectors: bool = True) -> None:
        self.kinds = frozenset(kinds)
        self.default_prefix = default_prefix
        self.selectors = selectors
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(
        self,
        kind: str,
        path_prefix: str | None = None,
        times: int = 1,
        *,
        seconds: float | None = None,
        method: str | None = None,
        every: int = 1,
    ) -> Fault:
        """Queue a fault for ``times`` requests whose path starts with ``path_prefix`` (and ``method``)."""
        if kind not in self.kinds:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(self.kinds)}")
        if not self.selectors and (method is not None or every != 1):
            raise ValueError("this sandbox matches faults by path only (no method or every)")
        if times < 1 or every < 1:
            raise ValueError("times and every must be >= 1" if self.selectors else "times must be >= 1")
        prefix = self.default_prefix if path_prefix is None else path_prefix
        fault = Fault(kind, prefix, times, seconds, method.upper() if method else None, every)
        with self._lock:
            self._faults.append(fault)
        return fault

    def add_from_json(self, data: dict[str, Any]) -> Fault:
        """The admin route's body: ``{"kind", "path_prefix", "times", "seconds"[, "method", "every"]}``."""
        kind = str(data.get("kind"))
        prefix = str(data.get("path_prefix", self.default_prefix))
        times = int(data.get("times", 1))
        if not self.selectors:
            return self.add(kind, prefix, times, seconds=data.get("seconds"))
        return self.add(
            kind, prefix, times, seconds=data.get("seconds"), method=data.get("method"), every=int(data.get("every", 1))
        )

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def take(self, method: str, path: str) -> Fault | None:
        """The fault this request gets, if any; a fault is dropped once its ``times`` are used."""
        with self._lock:
            for fault in self._faults:
                if not path.startswith(fault.path_prefix) or (fault.method and fault.method != method):
                    continue
                fault.seen += 1
                if fault.seen % fault.every:
                    continue
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None
