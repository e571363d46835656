"""Walks a Wootric list endpoint past its 30-page cap along a timestamp cursor, losing nothing.

The API serves at most `MAX_PAGE` pages of one filter. We read a window of pages sorted
ascending, then open the next window at the last second seen (inclusive bound) and skip the ids
already read in that second. When one second holds more records than a window can hold, we read
that second alone (`[eq]`), ascending to the cap and then descending from the other end, and warn
with the counts if even that cannot reach them all.
"""

import logging
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Iterator, List, Optional, Set

from sources.wootric.helpers.timestamps import epoch_seconds
from sources.wootric.settings import MAX_PAGE

logger = logging.getLogger(__name__)

Record = Dict[str, Any]
FetchPage = Callable[[Dict[str, Any], int], List[Record]]


class CursorWalk:
    """One walk over a stream; `pages()` yields lists of records, each record exactly once.

    `pages_per_window=1` re-anchors the filter after every page: slower by the overlap, but immune
    to records moving within the sort order while we page (end users whose `updated_at` changes
    mid-run would otherwise shift pages and let one record slip between two of them).
    """

    def __init__(
        self,
        fetch: FetchPage,
        *,
        filter_param: str,
        cursor_field: str,
        per_page: int,
        pages_per_window: int = MAX_PAGE,
        max_page: int = MAX_PAGE,
        stream: str = "",
    ) -> None:
        self._fetch = fetch
        self._filter = filter_param
        self._cursor = cursor_field
        self._per_page = per_page
        self._window = min(pages_per_window, max_page)
        self._max_page = max_page
        self._stream = stream or filter_param
        self.unreachable_seconds: List[int] = []

    def pages(self, start: Optional[int] = None, end: Optional[int] = None) -> Iterator[List[Record]]:
        """Records with `start <= cursor < end` (epoch seconds; None means unbounded)."""
        lower, carry = start, set()
        while True:
            bounds: Dict[str, Any] = {}
            if lower is not None:
                bounds[f"{self._filter}[gte]"] = lower
            if end is not None:
                bounds[f"{self._filter}[lt]"] = end
            first_ts: Optional[int] = None
            last_ts: Optional[int] = None
            at_last: Set[Any] = set()
            page, complete = 0, False
            while page < self._window:
                page += 1
                rows = self._fetch({**bounds, "sort_order": "asc"}, page)
                fresh = []
                for row in rows:
                    ts = self._ts(row)
                    if first_ts is None:
                        first_ts = ts
                    if ts != last_ts:
                        last_ts, at_last = ts, set()
                    at_last.add(row["id"])
                    if ts == lower and row["id"] in carry:
                        continue
                    fresh.append(row)
                if fresh:
                    yield fresh
                if len(rows) < self._per_page:
                    complete = True
                    break
            if complete:
                return
            if last_ts == lower:
                at_last |= carry
            if first_ts == last_ts:
                # the whole window is one second: paging on cannot leave it
                yield from self._one_second(last_ts, at_last, pages_read=page)
                lower, carry = last_ts + 1, set()
            else:
                lower, carry = last_ts, at_last

    def _one_second(self, second: int, seen: Set[Any], pages_read: int) -> Iterator[List[Record]]:
        """All records of one crowded second: ascending up to the cap, then from the other end."""
        eq = {f"{self._filter}[eq]": second}
        for page in range(pages_read + 1, self._max_page + 1):
            rows = self._fetch({**eq, "sort_order": "asc"}, page)
            fresh = self._unseen(rows, seen)
            if fresh:
                yield fresh
            if len(rows) < self._per_page:
                return
        reached_asc = len(seen)
        for page in range(1, self._max_page + 1):
            rows = self._fetch({**eq, "sort_order": "desc"}, page)
            fresh = self._unseen(rows, seen)
            if fresh:
                yield fresh
            if len(rows) < self._per_page or len(fresh) < len(rows):
                return  # short page, or we met records read ascending: the second is complete
        self.unreachable_seconds.append(second)
        logger.warning(
            "%s: more than %d records share the second %s; the API's %d-page cap let us read %d oldest-first "
            "and %d newest-first, and any records between those two ends could not be reached",
            self._stream,
            len(seen),
            datetime.fromtimestamp(second, timezone.utc).isoformat(),
            self._max_page,
            reached_asc,
            len(seen) - reached_asc,
        )

    def _unseen(self, rows: List[Record], seen: Set[Any]) -> List[Record]:
        fresh = [row for row in rows if row["id"] not in seen]
        seen.update(row["id"] for row in fresh)
        return fresh

    def _ts(self, row: Record) -> int:
        value = row[self._cursor]
        if not isinstance(value, datetime):
            raise ValueError(f"{self._stream}: record {row.get('id')} has no {self._cursor}")
        return epoch_seconds(value)
