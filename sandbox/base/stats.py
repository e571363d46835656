"""Thread-safe request counters, reported in a fixed order.

The admin ``stats`` route returns them as JSON; tests and benchmarks read that, so the key
order each vendor declares is kept.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Hashable, Mapping
from typing import Any


class Stats:
    """Named counters: ``int`` fields are totals, ``Counter`` fields are tallies by key."""

    def __init__(self, fields: Mapping[str, type[int] | type[Counter[Any]]]) -> None:
        self.fields = dict(fields)
        self.lock = threading.Lock()
        self._values: dict[str, Any] = {}
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self._values = {name: Counter() if kind is Counter else 0 for name, kind in self.fields.items()}

    def add(self, name: str, n: int = 1) -> None:
        """Increase a total."""
        with self.lock:
            self._values[name] += n

    def bump(self, name: str, key: Hashable) -> None:
        """Increase one key of a tally."""
        with self.lock:
            self._values[name][key] += 1

    def get(self, name: str, key: Hashable | None = None) -> int:
        """A total, or one key of a tally (0 when unseen)."""
        with self.lock:
            value = self._values[name]
            return int(value if key is None else value[key])

    def snapshot(self) -> dict[str, Any]:
        """Plain dicts and ints, in declaration order."""
        with self.lock:
            return {name: dict(v) if isinstance(v, Counter) else v for name, v in self._values.items()}
