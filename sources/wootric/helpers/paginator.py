"""Walks a Wootric list endpoint past its 30-page cap along a timestamp cursor, losing nothing.

The API serves at most `MAX_PAGE` pages of one filter. We read a window of pages sorted
ascending, then open the next window at the last second seen (inclusive bound) and skip the ids
already read in that second. Windows are one page long: offset pages shift when a record
before them is deleted or (end users) edited mid-walk, and a shift hides one record for good, while
re-anchoring after every page costs only the records of the last second read again (about one in 50).
When one second holds more records than a page, we read that second alone (`[eq]`), ascending to
the cap and then descending from the other end, and warn with the counts if even that cannot reach
them all.

Between runs the same inclusive bound applies; `boundary.Boundary` skips what the last run loaded.
"""

import hashlib
import json
import logging
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Generator, Iterator, List, Optional, Set

from sources.http_kit import ApiError
from sources.record_kit.timestamps import epoch_seconds
from sources.wootric.settings import MAX_PAGE

logger = logging.getLogger(__name__)

Record = Dict[str, Any]
FetchPage = Callable[[Dict[str, Any], int], List[Record]]


def content_hash(record: Record) -> str:
    """Stable digest of a record, to tell an edited record from one already loaded."""
    text = json.dumps(record, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


class CursorWalk:
    """One walk over a stream; `pages()` yields lists of records, each record exactly once.

    `recheck_crowded` reads a crowded second again until a pass finds nothing new: for streams
    whose records move in the sort order while we read (end users being edited).
    """

    #: reads of a crowded second before giving up on it changing under us
    MAX_PASSES = 3

    def __init__(
        self,
        fetch: FetchPage,
        *,
        filter_param: str,
        cursor_field: str,
        per_page: int,
        max_page: int = MAX_PAGE,
        recheck_crowded: bool = False,
        stream: str = "",
    ) -> None:
        self._fetch = fetch
        self._filter = filter_param
        self._cursor = cursor_field
        self._per_page = per_page
        self._max_page = max_page
        self._passes = self.MAX_PASSES if recheck_crowded else 1
        self._stream = stream or filter_param
        #: the newest second the walk saw, and every record in it (for the next run's bound)
        self.tail_second: Optional[int] = None
        self._tail_rows: List[Record] = []

    def pages(self, start: Optional[int] = None, end: Optional[int] = None) -> Iterator[List[Record]]:
        """Records with `start <= cursor < end` (epoch seconds; None means unbounded)."""
        lower: Optional[int] = start
        carry: Set[str] = set()
        while True:
            bounds: Dict[str, Any] = {}
            if lower is not None:
                bounds[f"{self._filter}[gte]"] = lower
            if end is not None:
                bounds[f"{self._filter}[lt]"] = end
            # one page per window: offset pages shift under deletes and edits, a fresh anchor does not
            rows = self._fetch({**bounds, "sort_order": "asc"}, 1)
            first_ts: Optional[int] = None
            last_ts: Optional[int] = None
            at_last: Set[str] = set()
            fresh = []
            for row in rows:
                ts = self._track(row)
                if first_ts is None:
                    first_ts = ts
                if (last_ts is not None and ts < last_ts) or (lower is not None and ts < lower):
                    raise ApiError(f"{self._stream}: the API ignored sort_order=asc; refusing to page on")
                if ts != last_ts:
                    last_ts, at_last = ts, set()
                key = str(row["id"])
                at_last.add(key)
                if ts == lower and key in carry:
                    continue
                fresh.append(row)
            if fresh:
                yield fresh
            if len(rows) < self._per_page:
                return
            if first_ts == last_ts:
                # the whole page is one second: paging on cannot leave it
                yield from self._one_second(last_ts, at_last | (carry if last_ts == lower else set()), 1)
                lower, carry = last_ts + 1, set()
            else:
                lower, carry = last_ts, at_last

    def tail_hashes(self) -> Dict[str, str]:
        """Content hashes of the records in the newest second seen, for the next run's `Boundary`."""
        return {str(row["id"]): content_hash(row) for row in self._tail_rows}

    def _one_second(self, second: int, seen: Set[str], pages_read: int) -> Iterator[List[Record]]:
        """All records of one crowded second, read until a whole pass finds nothing new.

        Offset pages inside one second shift when a record in it is edited (it moves to a later
        second) or deleted, which can hide one record per shift; a second pass then finds it.
        """
        first_page = pages_read + 1
        for _ in range(self._passes):
            before = len(seen)
            complete = yield from self._one_second_pass(second, seen, first_page)
            if not complete:
                return
            if self._passes == 1 or (len(seen) == before and first_page == 1):
                return
            first_page = 1
        logger.warning(
            "%s: records in the second %s kept changing while we read them; the next run re-reads it",
            self._stream,
            _iso(second),
        )

    def _one_second_pass(self, second: int, seen: Set[str], first_page: int) -> Generator[List[Record], None, bool]:
        """One read of a second: ascending to the cap, then descending until both ends meet.

        Returns False when the second holds more records than the two ends can reach.
        """
        eq = {f"{self._filter}[eq]": second}
        for page in range(first_page, self._max_page + 1):
            rows = self._fetch({**eq, "sort_order": "asc"}, page)
            fresh = self._unseen(rows, seen)
            if fresh:
                yield fresh
            if len(rows) < self._per_page:
                return True
        reached_asc = len(seen)
        for page in range(1, self._max_page + 1):
            rows = self._fetch({**eq, "sort_order": "desc"}, page)
            fresh = self._unseen(rows, seen)
            if fresh:
                yield fresh
            if len(rows) < self._per_page or len(fresh) < len(rows):
                return True  # short page, or we met records read ascending: the second is complete
        logger.warning(
            "%s: more than %d records share the second %s; the API's %d-page cap let us read %d oldest-first "
            "and %d newest-first, and any records between those two ends could not be reached",
            self._stream,
            len(seen),
            _iso(second),
            self._max_page,
            reached_asc,
            len(seen) - reached_asc,
        )
        return False

    def _unseen(self, rows: List[Record], seen: Set[str]) -> List[Record]:
        fresh = []
        for row in rows:
            self._track(row)
            key = str(row["id"])
            if key not in seen:
                seen.add(key)
                fresh.append(row)
        return fresh

    def _track(self, row: Record) -> int:
        """The record's second; remembers the records of the newest second seen."""
        value = row[self._cursor]
        if not isinstance(value, datetime):
            raise ValueError(f"{self._stream}: record {row.get('id')} has no {self._cursor}")
        ts = epoch_seconds(value)
        if ts != self.tail_second:
            if self.tail_second is not None and ts < self.tail_second:
                return ts
            self.tail_second, self._tail_rows = ts, []
        self._tail_rows.append(row)
        return ts


def _iso(second: int) -> str:
    return datetime.fromtimestamp(second, timezone.utc).isoformat()
