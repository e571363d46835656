"""What the previous run loaded at the edge of the cursor, so a run that reads it again skips it.

Runs re-read the last loaded second (the API filters by whole seconds, inclusive), and responses
re-read a look-back window of days so that later edits arrive. A record read again is passed on
only if it may have changed:
- in the last loaded second, when its content hash differs from the one loaded (dlt's own check
  compares ids only and would drop an edited record);
- inside the look-back window, when its `updated_at` is at or after the previous run's *start*
  (less a margin for clock skew): an edit made while that run was reading is caught too. Records
  updated that recently are compared by content hash, so an unchanged one is not loaded twice.
"""

import time
from typing import Any, Dict, List, MutableMapping, Optional

from sources.wootric.helpers.paginator import CursorWalk, Record, content_hash, epoch_seconds

#: seconds of clock difference tolerated between this machine and the API's `updated_at`
CLOCK_MARGIN = 600


class Boundary:
    def __init__(
        self,
        state: MutableMapping[str, Any],
        cursor_field: str,
        updated_field: Optional[str],
        clock: Any = time.time,
    ) -> None:
        self._state = state
        saved = state.get("boundary") or {}
        self._second: Optional[int] = saved.get("second")
        self._hashes: Dict[str, str] = saved.get("hashes") or {}
        self._floor: Optional[int] = saved.get("updated_floor")
        self._recent: Dict[str, str] = saved.get("recent_hashes") or {}
        self._cursor = cursor_field
        self._updated_field = updated_field
        self._new_floor = int(clock()) - CLOCK_MARGIN
        self._recent_rows: List[Record] = []

    def fresh(self, rows: List[Record]) -> List[Record]:
        """The rows that are new, or changed since the previous run loaded them."""
        if self._updated_field:
            for row in rows:
                value = row.get(self._updated_field)
                if value is not None and epoch_seconds(value) >= self._new_floor:
                    self._recent_rows.append(row)
        if self._second is None:
            return rows
        out = []
        for row in rows:
            ts = epoch_seconds(row[self._cursor])
            if ts > self._second:
                out.append(row)
            elif ts == self._second:
                if self._hashes.get(str(row["id"])) != content_hash(row):
                    out.append(row)
            elif self._edited_since(row):
                out.append(row)
        return out

    def _edited_since(self, row: Record) -> bool:
        if self._updated_field is None or self._floor is None:
            return True
        value = row.get(self._updated_field)
        if value is None or epoch_seconds(value) < self._floor:
            return value is None
        return self._recent.get(str(row["id"])) != content_hash(row)

    def save(self, walker: CursorWalk) -> None:
        """Remember the newest second this run read, for the next one (only after a full walk)."""
        if walker.tail_second is None or (self._second is not None and walker.tail_second < self._second):
            return
        self._state["boundary"] = {
            "second": walker.tail_second,
            "hashes": walker.tail_hashes(),
            "updated_floor": self._new_floor if self._updated_field else None,
            "recent_hashes": {str(row["id"]): content_hash(row) for row in self._recent_rows},
        }
