"""What the previous run loaded at the edge of the cursor, so a run that reads it again skips it.

Runs re-read the last loaded second (the API filters by whole seconds, inclusive), and responses
re-read a look-back window of days so that later edits arrive. A record read again is passed on
only if it changed: in the last second, by content hash (dlt's own check compares ids only and
would drop an edited record); inside the look-back window, by an `updated_at` at or after the
newest one the previous run saw.
"""

from typing import Any, Dict, List, MutableMapping, Optional

from sources.wootric.helpers.paginator import CursorWalk, Record, content_hash
from sources.wootric.helpers.timestamps import epoch_seconds


class Boundary:
    def __init__(self, state: MutableMapping[str, Any], cursor_field: str, updated_field: Optional[str]) -> None:
        self._state = state
        saved = state.get("boundary") or {}
        self._second: Optional[int] = saved.get("second")
        self._hashes: Dict[str, str] = saved.get("hashes") or {}
        self._updated: Optional[int] = saved.get("max_updated")
        self._updated_hashes: Dict[str, str] = saved.get("max_updated_hashes") or {}
        self._cursor = cursor_field
        self._updated_field = updated_field
        self._max_updated = self._updated
        self._max_updated_rows: List[Record] = []

    def fresh(self, rows: List[Record]) -> List[Record]:
        """The rows that are new, or changed since the previous run loaded them."""
        if self._updated_field:
            for row in rows:
                value = row.get(self._updated_field)
                if value is not None:
                    seconds = epoch_seconds(value)
                    if self._max_updated is None or seconds > self._max_updated:
                        self._max_updated, self._max_updated_rows = seconds, []
                    if seconds == self._max_updated:
                        self._max_updated_rows.append(row)
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
        if self._updated_field is None or self._updated is None:
            return True
        value = row.get(self._updated_field)
        if value is None:
            return True
        seconds = epoch_seconds(value)
        if seconds != self._updated:
            return seconds > self._updated
        return self._updated_hashes.get(str(row["id"])) != content_hash(row)

    def save(self, walker: CursorWalk) -> None:
        """Remember the newest second this run read, for the next one (only after a full walk)."""
        if walker.tail_second is None or (self._second is not None and walker.tail_second < self._second):
            return
        self._state["boundary"] = {
            "second": walker.tail_second,
            "hashes": walker.tail_hashes(),
            "max_updated": self._max_updated,
            "max_updated_hashes": {str(row["id"]): content_hash(row) for row in self._max_updated_rows}
            or self._updated_hashes,
        }
