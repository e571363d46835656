"""Walks a Wootric list endpoint past its 30-page cap along a timestamp cursor, losing nothing.

The API serves at most `MAX_PAGE` pages of one filter, sorted ascending. Offset pages shift when a
record before them is deleted or (end users) edited mid-walk, and a shift hides the record that
crossed the page seam, for good. So every page after the first must overlap what we already read:
- *Re-anchoring* opens a new filter at the last second seen (inclusive) and skips the ids already
  read in it: the overlap is that second's records, usually one.
- *Continuing* (responses and declines) asks the same filter for a page of another size that starts
  a record or two before the end of what we read (page 2 of 49, page 3 of 48, ...). The overlap is
  checked id by id: a deletion moves every later record up, the check fails, the page is dropped
  and the walk re-anchors instead.
Responses and declines continue when that re-reads fewer records than re-anchoring would, that is
when the last second holds more than two records read (bursts of equal timestamps). End users are
edited while we read, so they always re-anchor, as before.

When one second holds more records than a page, we read that second alone (`[eq]`), ascending to
the cap and then descending from the other end, and warn with the counts if even that cannot reach
them all.

Between runs the same inclusive bound applies; `boundary.Boundary` skips what the last run loaded.
"""

import hashlib
import json
import logging
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Generator, Iterator, List, Optional, Set, Tuple

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

    `recheck_crowded` is for streams whose records move in the sort order while we read (end users
    being edited): every page re-anchors, and a crowded second is read again until a pass finds
    nothing new. Other streams continue a filter with overlapping pages where that is cheaper.
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
        #: records that move while we read (edited end users) make any page but a fresh first one a risk
        self._continue = not recheck_crowded
        self._stream = stream or filter_param
        #: the newest second the walk saw, and every record in it (for the next run's bound)
        self.tail_second: Optional[int] = None
        self._tail_rows: List[Record] = []

    def pages(self, start: Optional[int] = None, end: Optional[int] = None) -> Iterator[List[Record]]:
        """Records with `start <= cursor < end` (epoch seconds; None means unbounded)."""
        lower: Optional[int] = start
        carry: Set[str] = set()  # ids already read in the second `lower`
        read: List[str] = []  # ids of the current filter, in offset order (for the overlap check)
        last_ts: Optional[int] = None
        at_last: Set[str] = set()  # ids read in the second `last_ts`
        while True:
            bounds: Dict[str, Any] = {f"{self._filter}[lt]": end} if end is not None else {}
            if lower is not None:
                bounds[f"{self._filter}[gte]"] = lower
            step = self._continuation(len(read), len(at_last)) if read else None
            if step is None:
                per_page, page, read = self._per_page, 1, []
            else:
                per_page, page = step
            rows = self._fetch({**bounds, "sort_order": "asc", **({"per_page": per_page} if step else {})}, page)
            overlap = read[(page - 1) * per_page :]
            if [str(row["id"]) for row in rows[: len(overlap)]] != overlap:
                # records moved up: one of those we read was deleted; the next filter starts where we are
                logger.info("%s: a record was deleted while we paged; re-anchoring", self._stream)
                lower, carry, read = last_ts, set(at_last), []
                continue
            fresh = []
            for row in rows[len(overlap) :]:
                ts = self._track(row)
                if (last_ts is not None and ts < last_ts) or (lower is not None and ts < lower):
                    raise ApiError(f"{self._stream}: the API ignored sort_order=asc; refusing to page on")
                if ts != last_ts:
                    last_ts, at_last = ts, set()
                key = str(row["id"])
                at_last.add(key)
                read.append(key)
                if ts == lower and key in carry:
                    continue
                fresh.append(row)
            if fresh:
                yield fresh
            if len(rows) < per_page or last_ts is None:
                return
            if self._continuation(len(read), len(at_last)) is not None:
                continue
            if len(at_last) >= self._per_page:
                # the second holds a page or more: re-anchoring in it cannot leave it
                seen = at_last | (carry if last_ts == lower else set())
                yield from self._one_second(last_ts, seen, len(at_last) // self._per_page)
                lower, carry, read = last_ts + 1, set(), []
                last_ts, at_last = None, set()
            else:
                lower, carry, read = last_ts, set(at_last), []

    def _continuation(self, done: int, in_last_second: int) -> Optional[Tuple[int, int]]:
        """(per_page, page) of the page that goes on from offset `done` of the current filter,
        overlapping the record before it, if that brings more new records than re-anchoring (which
        re-reads the `in_last_second` records of the last second); None to re-anchor."""
        if not self._continue:
            return None
        best: Optional[Tuple[int, int]] = None
        for size in range(self._per_page, 0, -1):
            page = (done - 1) // size + 1
            if page <= self._max_page and page * size > done and (best is None or page * size > best[0] * best[1]):
                best = (size, page)
        if best is None or best[0] * best[1] - done <= self._per_page - in_last_second:
            return None
        return best

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
