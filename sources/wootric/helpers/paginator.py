"""Walks a Wootric list endpoint past its 30-page cap along a timestamp cursor, losing nothing.

Offset pages shift when an earlier record is deleted or (end users) edited mid-walk, which would
hide a record for good. So every page after a filter's first overlaps the last record read and is
checked id by id; on a mismatch the walk reopens a filter at the last second it read. The rule in
full: docs/wootric.md, "How incremental loading works".
"""

import hashlib
import json
import logging
from datetime import datetime, timezone
from itertools import pairwise
from typing import Any, Callable, Dict, Generator, Iterator, List, Optional, Set, Tuple

from sources.http_kit import ApiError
from sources.wootric.settings import MAX_PAGE

logger = logging.getLogger(__name__)

Record = Dict[str, Any]
FetchPage = Callable[[Dict[str, Any], int], List[Record]]


def epoch_seconds(value: datetime) -> int:
    """Whole UNIX seconds, rounded down: the resolution of Wootric's `created[...]` filters."""
    return int(value.timestamp() // 1)


def content_hash(record: Record) -> str:
    """Stable digest of a record, to tell an edited record from one already loaded."""
    text = json.dumps(record, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


class CursorWalk:
    """One walk over a stream; `pages()` yields lists of records, each record exactly once.

    `recheck_crowded`: records move in the sort order while we read (end users being edited), so a
    second beyond one filter's reach is read again until a pass finds nothing new.
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
        #: the most records one filter reaches (its last page's end)
        self._reach = per_page * max_page
        self._passes = self.MAX_PASSES if recheck_crowded else 1
        self._stream = stream or filter_param
        #: the newest second the walk saw, and every record in it (for the next run's bound)
        self.tail_second: Optional[int] = None
        self._tail_rows: List[Record] = []

    def pages(self, start: Optional[int] = None, end: Optional[int] = None) -> Iterator[List[Record]]:
        """Records with `start <= cursor < end` (epoch seconds; None means unbounded)."""
        trail = _Trail()
        anchor: Optional[int] = start  # where the filter opens while the trail is empty
        idle = 0  # requests in a row that brought nothing new
        while True:
            index, per_page, page = 0, self._per_page, 1
            if trail.resync:
                # a shift was detected: a fresh filter at the last second, its records skipped by id
                index = trail.last_second_start()
            elif trail.secs:
                plan = self._plan(trail)
                if plan is None:
                    # the last second alone holds more than a filter reaches: the trail cannot leave it
                    second = trail.secs[-1]
                    yield from self._one_second(second, trail.read.get(second, set()))
                    anchor, trail = second + 1, _Trail()
                    continue
                index, per_page, page = plan
            if trail.secs:
                anchor = trail.secs[index]
            params: Dict[str, Any] = {f"{self._filter}[lt]": end} if end is not None else {}
            if anchor is not None:
                params[f"{self._filter}[gte]"] = anchor
            if per_page != self._per_page:
                params["per_page"] = per_page
            rows = self._fetch({**params, "sort_order": "asc"}, page)
            secs = self._seconds(rows, anchor)
            base = index + (page - 1) * per_page  # the trail position of the page's first record
            fresh: List[Record] = []
            if page > 1 and [str(row["id"]) for row in rows[: len(trail.ids) - base]] != trail.ids[base:]:
                # records moved up: one we read was deleted or moved later; the page is not ours
                logger.info("%s: a record was deleted or moved while we paged; re-anchoring", self._stream)
                trail.drop_to_last_second()
            else:
                trail.resync = False
                fresh = trail.replace_from(base, rows, secs)
                trail.trim(self._reach)
                if len(rows) < per_page:
                    yield from self._tracked(fresh)
                    return
            idle = 0 if fresh else idle + 1
            if idle > 3 * self._max_page:
                # a crowded second's re-read takes at most 30 pages: this is churn, or an API that
                # ignores `per_page`, and paging on would never end
                raise ApiError(f"{self._stream}: {idle} pages in a row shifted or brought nothing new; stopping")
            yield from self._tracked(fresh)

    def _plan(self, trail: "_Trail") -> Optional[Tuple[int, int, int]]:
        """(trail index of the second that anchors the filter, per_page, page) of the request that
        reads the most records past the last one read while still overlapping it; None if none can.
        Pages are `per_page` or one fewer: a full page alone can end exactly on the last record read
        from every anchor, and bring nothing new."""
        secs, total = trail.secs, len(trail.secs)
        best: Optional[Tuple[int, int, int]] = None
        best_gain = 0
        lowest = max(0 if trail.head_complete else 1, total - self._reach + 1)
        for i in range(total - 1, lowest - 1, -1):
            if i and secs[i] == secs[i - 1]:
                continue  # not the first record of its second: no filter starts here
            held = total - i  # records read from that second on
            for size in (self._per_page, max(self._per_page - 1, 1)):
                page = (held - 1) // size + 1
                if page <= self._max_page and page * size - held > best_gain:
                    best, best_gain = (i, size, page), page * size - held
            if best_gain >= self._per_page - 1:
                break
        return best

    def _second(self, row: Record) -> int:
        value = row[self._cursor]
        if not isinstance(value, datetime):
            raise ValueError(f"{self._stream}: record {row.get('id')} has no {self._cursor}")
        return epoch_seconds(value)

    def _seconds(self, rows: List[Record], anchor: Optional[int]) -> List[int]:
        """The rows' seconds, refusing an answer that is not sorted ascending from the anchor."""
        secs = [self._second(row) for row in rows]
        if any(floor is not None and ts < floor for floor, ts in pairwise([anchor, *secs])):
            raise ApiError(f"{self._stream}: the API ignored sort_order=asc; refusing to page on")
        return secs

    def _tracked(self, fresh: List[Record]) -> Iterator[List[Record]]:
        """The page's new records, remembered for the next run's bound (nothing for an empty page)."""
        for row in fresh:
            self._track(row)
        if fresh:
            yield fresh

    def _track(self, row: Record) -> None:
        """Remembers the records of the newest second seen."""
        ts = self._second(row)
        if self.tail_second is not None and ts < self.tail_second:
            return
        if ts != self.tail_second:
            self.tail_second, self._tail_rows = ts, []
        self._tail_rows.append(row)

    def tail_hashes(self) -> Dict[str, str]:
        """Content hashes of the records in the newest second seen, for the next run's `Boundary`."""
        return {str(row["id"]): content_hash(row) for row in self._tail_rows}

    def _one_second(self, second: int, seen: Set[str]) -> Iterator[List[Record]]:
        """The rest of a crowded second, read until a whole pass finds nothing new (an edit or a
        deletion inside it shifts its offset pages, which can hide one record per shift)."""
        seen = set(seen)
        first_page = self._max_page + 1  # the trail read it ascending as far as a filter reaches
        for _ in range(self._passes):
            before = len(seen)
            complete = yield from self._one_second_pass(second, seen, first_page)
            if not complete or self._passes == 1 or (len(seen) == before and first_page == 1):
                return
            first_page = 1
        logger.warning(
            "%s: records in the second %s kept changing while we read them; the next run re-reads it",
            self._stream,
            _iso(second),
        )

    def _one_second_pass(self, second: int, seen: Set[str], first_page: int) -> Generator[List[Record], None, bool]:
        """Ascending to the cap, then descending until both ends meet; False if they cannot meet."""
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


class _Trail:
    """What the walk read since it last opened a filter from scratch, in the API's order: each
    record's second and id, so any second that begins here can anchor a filter whose offsets we know."""

    def __init__(self) -> None:
        self.secs: List[int] = []
        self.ids: List[str] = []
        #: the first record kept starts its second (false once the front was trimmed mid-second)
        self.head_complete = True
        #: a shift was detected: the next page opens a fresh filter at the last second
        self.resync = False
        #: ids read per second, so a record read again is passed on only once per second
        self.read: Dict[int, Set[str]] = {}

    def last_second_start(self) -> int:
        i = len(self.secs) - 1
        while i > 0 and self.secs[i - 1] == self.secs[i]:
            i -= 1
        return i

    def drop_to_last_second(self) -> None:
        """After a shift, offsets counted before the last second are stale: keep only that second."""
        i = self.last_second_start()
        if i:
            del self.secs[:i], self.ids[:i]
            self.head_complete = True
        self.resync = True

    def replace_from(self, base: int, rows: List[Record], secs: List[int]) -> List[Record]:
        """Put a checked page at trail position `base`; returns the records not read before in their second."""
        del self.secs[base:], self.ids[base:]
        if base == 0:
            self.head_complete = True  # page 1 of a filter starts at the first record of its second
        fresh = []
        for row, ts in zip(rows, secs, strict=True):
            key = str(row["id"])
            self.secs.append(ts)
            self.ids.append(key)
            seen = self.read.setdefault(ts, set())
            if key not in seen:
                seen.add(key)
                fresh.append(row)
        return fresh

    def trim(self, keep: int) -> None:
        """Forget all but the last `keep` records once twice that many are held (no filter reaches
        further back than `keep`)."""
        if len(self.secs) <= 2 * keep:
            return
        cut = len(self.secs) - keep
        self.head_complete = self.secs[cut] != self.secs[cut - 1]
        del self.secs[:cut], self.ids[:cut]
        for second in [s for s in self.read if s < self.secs[0]]:
            del self.read[second]


def _iso(second: int) -> str:
    return datetime.fromtimestamp(second, timezone.utc).isoformat()
