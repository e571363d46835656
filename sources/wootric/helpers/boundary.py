"""What the previous run loaded at the edge of the cursor, so a run that reads it again skips it.

A record read again passes only if it may have changed: in the last loaded second, when its content
hash differs; inside the look-back, when updated since the previous run *started* (less a clock
margin) and its hash differs (docs/wootric.md, "How incremental loading works").
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
