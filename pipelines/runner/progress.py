"""A sync's progress, as a dlt collector: on a terminal a live line per resource (rows) and the run's
requests and rate-limit waits; without one, a single log line every few seconds."""

import sys
import time
from typing import Any, Callable, Dict, List, Optional, TextIO

from dlt.common.runtime.collector import Collector

from sources.http_kit.pacing import TRAFFIC, Totals

#: seconds between two lines when the output is a log, not a terminal
LOG_PERIOD = 5.0
#: seconds between two redraws of the terminal lines
REDRAW_PERIOD = 0.25
#: dlt's own counters, not resources
_DLT_COUNTERS = {"Resources", "Files", "Items", "Jobs"}


class SyncProgress(Collector):
    """Counts rows per resource during extract; shows requests, retries and waits beside them."""

    def __init__(
        self,
        stream: Optional[TextIO] = None,
        *,
        live: Optional[bool] = None,
        traffic: Callable[[], Totals] = TRAFFIC.totals,
        clock: Callable[[], float] = time.monotonic,
        log_period: float = LOG_PERIOD,
    ) -> None:
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self._traffic = traffic
        self._clock = clock
        self._period = REDRAW_PERIOD if self.live else log_period
        self.step = ""
        self._rows: Dict[str, int] = {}
        self._drawn = 0
        self._last: Optional[float] = None
        self._started = 0.0
        self._base = Totals()

    def update(
        self,
        name: str,
        inc: int = 1,
        total: Optional[int] = None,
        inc_total: Optional[int] = None,
        message: Optional[str] = None,
        label: Optional[str] = None,
    ) -> None:
        if name in _DLT_COUNTERS or name.startswith("_dlt") or label or not self.step.lower().startswith("extract"):
            return
        self._rows[name] = self._rows.get(name, 0) + inc
        now = self._clock()
        if self._last is None or now - self._last >= self._period:
            self._last = now
            self._show()

    def _start(self, step: str) -> None:
        self._rows, self._drawn, self._last = {}, 0, None
        self._started, self._base = self._clock(), self._traffic()

    def _stop(self) -> None:
        if self._rows:
            self._show()
        self._drawn = 0

    def lines(self) -> List[str]:
        """What is shown now: one line per resource on a terminal, one line in all for a log."""
        t = self._traffic()
        requests, retries = t.requests - self._base.requests, t.retries - self._base.retries
        waited = t.waited_seconds - self._base.waited_seconds
        http = f"{requests:,} requests" + (f", {retries:,} retries" if retries else "")
        http += f", waited {waited:.1f}s for rate limits and retries" if waited >= 0.05 else ""
        elapsed = f"{self._clock() - self._started:.0f}s"
        if not self.live:
            rows = ", ".join(f"{name} {n:,}" for name, n in self._rows.items())
            return [f"progress ({self.step}, {elapsed}): {rows} rows | {http}"]
        width = max(len(name) for name in self._rows)
        lines = [f"  {name:<{width}}  {n:>10,} rows" for name, n in self._rows.items()]
        return [*lines, f"  {'':<{width}}  {http}, {elapsed}"]

    def _show(self) -> None:
        lines = self.lines()
        if self.live:
            # move up over the lines drawn last time and draw them again, each cleared to its end
            up = f"\x1b[{self._drawn}F" if self._drawn else ""
            self.stream.write(up + "".join(f"{line}\x1b[K\n" for line in lines))
            self._drawn = len(lines)
        else:
            self.stream.write(lines[0] + "\n")
        self.stream.flush()


def progress_for(choice: Optional[str], live: Optional[bool] = None) -> Any:
    """`--progress`: ours by default, `none` for silence, or one of dlt's collectors by name; `live=False`
    keeps ours to log lines (accounts side by side would redraw over each other's lines)."""
    if choice in (None, "auto"):
        return SyncProgress(live=live)
    if choice == "none":
        return None
    return choice
