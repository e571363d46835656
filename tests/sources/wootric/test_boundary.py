"""Across runs: an edit made while the previous run was reading is loaded; unchanged records are not."""

from datetime import datetime, timezone

from sources.wootric.helpers.boundary import CLOCK_MARGIN, Boundary
from sources.wootric.helpers.paginator import content_hash


def ts(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, timezone.utc)


class Walk:
    def __init__(self, rows):
        self.tail_second = max(int(r["created_at"].timestamp()) for r in rows)
        self._tail = [r for r in rows if int(r["created_at"].timestamp()) == self.tail_second]

    def tail_hashes(self):
        return {str(r["id"]): content_hash(r) for r in self._tail}


def test_an_edit_during_the_previous_run_is_loaded_and_unchanged_records_are_not() -> None:
    t1 = 1_800_000_000
    old = {"id": 1, "created_at": ts(t1 - 86400), "updated_at": ts(t1 - 86400), "tags": []}
    recent = {"id": 2, "created_at": ts(t1 - 3600), "updated_at": ts(t1 - 100), "tags": []}
    edited = {"id": 3, "created_at": ts(t1 - 7200), "updated_at": ts(t1 - 7200), "tags": []}
    # read late in run 1, after an edit to `edited` that run 1 had already read past
    late = {"id": 4, "created_at": ts(t1 - 60), "updated_at": ts(t1 + 40), "tags": []}
    state: dict = {}
    first = Boundary(state, "created_at", "updated_at", clock=lambda: t1)
    assert first.fresh([old, recent, edited, late]) == [old, recent, edited, late]
    first.save(Walk([old, recent, edited, late]))

    # the edit carries an updated_at older than the newest one run 1 saw: it must still load
    edited_now = {**edited, "updated_at": ts(t1 + 30), "tags": ["EDITED"]}
    second = Boundary(state, "created_at", "updated_at", clock=lambda: t1 + 3600)
    assert second.fresh([old, recent, edited_now, late]) == [edited_now]
    assert state["boundary"]["updated_floor"] == t1 - CLOCK_MARGIN


def test_without_an_updated_field_only_the_last_second_is_compared() -> None:
    t1 = 1_800_000_000
    a = {"id": 1, "created_at": ts(t1), "x": 1}
    state: dict = {}
    run = Boundary(state, "created_at", None, clock=lambda: t1)
    run.fresh([a])
    run.save(Walk([a]))
    again = Boundary(state, "created_at", None, clock=lambda: t1 + 10)
    assert again.fresh([a]) == []
    assert again.fresh([{**a, "x": 2}]) == [{**a, "x": 2}]
