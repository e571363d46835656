"""The cursor walk past the 30-page cap, over real HTTP against the sandbox and on an in-memory list."""

import logging
import math
from bisect import bisect_left
from collections import Counter
from datetime import datetime, timezone
from typing import Any, Callable, Dict, List

import pytest

from sandbox.wootric import generate_account
from sources.http_kit import ApiError
from sources.wootric.helpers.client import WootricClient
from sources.wootric.helpers.credentials import WootricClientCredentials
from sources.wootric.helpers.paginator import CursorWalk, epoch_seconds


def test_epoch_seconds_rounds_down_for_the_api_filters() -> None:
    assert epoch_seconds(datetime(2016, 12, 16, 17, 5, 0, 999000, tzinfo=timezone.utc)) == 1481907900


def client_for(server, per_page: int = 50) -> WootricClient:
    creds = WootricClientCredentials(client_id=server.client_id, client_secret=server.client_secret)
    return WootricClient(server.url, creds, per_page=per_page)


def walk_ids(client: WootricClient, stream: str, start=None, end=None) -> Counter:
    return Counter(rec["id"] for page in client.walker(stream).pages(start, end) for rec in page)


@pytest.mark.parametrize("per_page", [50, 7])
def test_bursts_across_page_30_are_read_exactly_once(start_sandbox, per_page: int) -> None:
    account = generate_account(
        seed=3,
        end_users=120,
        responses=per_page * 30 * 2 + 17,
        declines=10,
        bursts=((per_page * 3 + 5, "responses"), (per_page + 9, "end_users")),
    )
    server = start_sandbox(account)
    client = client_for(server, per_page)
    for stream in ("responses", "end_users"):
        seen = walk_ids(client, stream)
        assert max(seen.values()) == 1, f"{stream}: duplicates"
        assert set(seen) == {r["id"] for r in account.truth(stream)}, f"{stream}: lost records"
    assert server.stats()["status_counts"].get(400, 0) == 0, "never asked for a page past the cap"


def test_a_second_holding_more_than_a_window_is_read_from_both_ends(start_sandbox) -> None:
    account = generate_account(seed=4, end_users=20, responses=300, declines=5, huge_second=2400)
    server = start_sandbox(account)
    seen = walk_ids(client_for(server), "responses")
    assert max(seen.values()) == 1
    assert set(seen) == {r["id"] for r in account.truth("responses")}


def test_a_second_beyond_reach_is_reported_loudly_with_counts(start_sandbox, caplog) -> None:
    account = generate_account(seed=4, end_users=20, responses=100, declines=5, huge_second=3100)
    server = start_sandbox(account)
    with caplog.at_level(logging.WARNING):
        seen = walk_ids(client_for(server), "responses")
    assert max(seen.values()) == 1
    truth = {r["id"] for r in account.truth("responses")}
    assert len(truth) - len(seen) == 100, "3,000 of the 3,100 in one second are reachable"
    warning = " ".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert "more than 3000 records share the second" in warning
    assert "1500 oldest-first and 1500 newest-first" in warning


def test_bounds_are_inclusive_start_exclusive_end(start_sandbox) -> None:
    account = generate_account(seed=9, end_users=30, responses=400, declines=5)
    server = start_sandbox(account)
    times = sorted({epoch_seconds(r["created_at"]) for r in account.truth("responses")})
    start, end = times[100], times[300]
    seen = walk_ids(client_for(server), "responses", start, end)
    want = {r["id"] for r in account.truth("responses") if start <= epoch_seconds(r["created_at"]) < end}
    assert set(seen) == want and max(seen.values()) == 1


def test_excluded_responses_are_read_and_flagged(start_sandbox) -> None:
    account = generate_account(seed=10, end_users=30, responses=500, declines=5, excluded_ratio=0.2)
    server = start_sandbox(account)
    flags = {
        rec["id"]: rec["excluded_from_calculations"]
        for page in client_for(server).walker("responses").pages(None, None)
        for rec in page
    }
    assert flags == {r["id"]: r["excluded_from_calculations"] for r in account.truth("responses")}
    assert sum(flags.values()) > 50


@pytest.mark.parametrize("stream", ["responses", "end_users"])
def test_a_deletion_during_the_walk_hides_no_other_record(start_sandbox, stream: str) -> None:
    """Offset pages shift left when an earlier record is deleted; the overlap check catches it."""
    sizes = {"end_users": 50, "responses": 1200, stream: 1200}
    account = generate_account(seed=14, declines=5, **sizes)
    server = start_sandbox(account)
    client = client_for(server)
    read = []
    deleted = []
    original = client.list_page

    def list_page(stream, params, page):
        rows = original(stream, params, page)
        read.extend(r["id"] for r in rows)
        if len(read) > 400 and not deleted:
            deleted.extend([read[10], read[-30]])  # the second was read on this page, near its end
            for rid in deleted:
                account.delete(stream, rid)
        return rows

    client.list_page = list_page
    seen = walk_ids(client, stream)
    assert deleted
    assert set(seen) == {r["id"] for r in account.truth(stream)} | set(deleted)
    assert max(seen.values()) == 1


def fewest_requests(records: int) -> int:
    """A first page of 50, then 49 new records a page: every later page overlaps one record read."""
    return 1 + math.ceil((records - 50) / 49)


def test_a_bursty_account_costs_one_re_read_a_page(start_sandbox) -> None:
    """The shape of the benchmark's W1 bursty account: bursts of 45 and 120 responses, 60 end users
    and 60 declines sharing one second. End users re-anchored after every page and read their bursts
    twice (72 requests here); now each stream is read at the floor."""
    bursts = (*((120, "responses"), (45, "responses")) * 4, *((60, "end_users"),) * 3, (60, "declines"))
    account = generate_account(seed=21, end_users=3000, responses=8000, declines=800, bursts=bursts)
    server = start_sandbox(account)
    client = client_for(server)
    for stream in ("end_users", "responses", "declines"):
        server.reset_stats()
        seen = walk_ids(client, stream)
        assert set(seen) == {r["id"] for r in account.truth(stream)} and max(seen.values()) == 1
        requests = server.stats()["by_path"][f"/v1/{stream}"]
        assert requests <= fewest_requests(account.count(stream)), (stream, requests)


def test_end_users_edited_inside_a_crowded_second_are_all_read(start_sandbox) -> None:
    account = generate_account(seed=15, end_users=400, responses=10, declines=5, bursts=((220, "end_users"),))
    server = start_sandbox(account)
    client = client_for(server)
    inside, moved = [], []
    original = client.list_page

    def list_page(stream, params, page):
        rows = original(stream, params, page)
        if len(rows) > 1 and len({r["updated_at"] for r in rows}) == 1:
            inside.append(page)  # a whole page inside the crowded second
            if len(inside) == 2:
                moved.append(rows[0]["id"])
                account.update_end_users([rows[0]["id"]])  # moves out of the crowded second mid-read
        return rows

    client.list_page = list_page
    seen = walk_ids(client, "end_users")
    assert moved, "the walk never read a second page inside the crowded second: the edit did not happen"
    assert set(seen) == {r["id"] for r in account.truth("end_users")}
    # an edited user may come twice (before and after its edit; merge keeps the newer), any other once
    assert {i: n for i, n in seen.items() if n > 1 and i not in moved} == {}
    assert all(seen[i] <= 2 for i in moved)


class FakeList:
    """An in-memory list endpoint with the API's filters, ascending order and 30-page cap: counts
    requests and calls `on_request` before answering (to delete a record, as another client would)."""

    def __init__(self, seconds: List[int], per_page: int = 50, field: str = "created") -> None:
        self.seconds = sorted(seconds)
        self.ids = list(range(1, len(seconds) + 1))  # ties in id order, as the API sorts them
        self.per_page = per_page
        self.field = field  # "updated": end users, who move to the end of the order when edited
        self.requests = 0
        self.reached = 0  # the position of the last record answered
        self.on_request: Callable[[int], None] = lambda n: None

    def fetch(self, params: Dict[str, Any], page: int) -> List[Dict[str, Any]]:
        self.requests += 1
        self.on_request(self.requests)
        assert page <= 30 and params["sort_order"] == "asc"
        size = params.get("per_page", self.per_page)
        lo = bisect_left(self.seconds, params.get(f"{self.field}[gte]", params.get(f"{self.field}[eq]", 0)))
        end = params[f"{self.field}[eq]"] + 1 if f"{self.field}[eq]" in params else params.get(f"{self.field}[lt]")
        hi = bisect_left(self.seconds, end) if end is not None else len(self.seconds)
        picked = range(lo + (page - 1) * size, min(hi, lo + page * size))
        self.reached = max(picked, default=lo)
        stamp = f"{self.field}_at"
        return [{"id": self.ids[i], stamp: datetime.fromtimestamp(self.seconds[i], timezone.utc)} for i in picked]

    def delete_at(self, position: int) -> int:
        del self.seconds[position]
        return self.ids.pop(position)

    def move_to_end(self, position: int) -> int:
        """An edited end user: its `updated_at` becomes now, after every other record."""
        second = self.seconds.pop(position)
        rid = self.ids.pop(position)
        self.seconds.append(max(second, self.seconds[-1]) + 1)
        self.ids.append(rid)
        return rid


def fake_walk(api: FakeList) -> Counter:
    moving = api.field == "updated"
    walk = CursorWalk(
        api.fetch,
        filter_param=api.field,
        cursor_field=f"{api.field}_at",
        per_page=50,
        recheck_crowded=moving,
        stream="end_users" if moving else "responses",
    )
    return Counter(rec["id"] for page in walk.pages(None, None) for rec in page)


def bursty_seconds(records: int, burst: int, every: int) -> List[int]:
    """One record a second, except that after every `every` records `burst` share one second."""
    seconds, second = [], 1_700_000_000
    while len(seconds) < records:
        seconds.extend(range(second, second + every))
        seconds.extend([second + every] * burst)
        second += every + 1
    return seconds[:records]


@pytest.mark.parametrize("field", ["created", "updated"])
def test_bursts_of_equal_timestamps_cost_no_re_read_per_page_and_a_deletion_still_hides_nothing(field: str) -> None:
    """Every 25 records share a second, so every page ends on one: re-anchoring after each page
    re-read 25 records a page (240 requests for 6,000, as end users did); continuing one filter with
    pages that overlap by a record or two, 134 (responses); anchoring each page at the second that
    leaves the smallest overlap, 126 (123 at the least). A deletion mid-walk is caught by the overlap."""
    seconds = [1_700_000_000 + i // 25 for i in range(6_000)]
    api = FakeList(seconds, field=field)
    seen = fake_walk(api)
    assert set(seen) == set(range(1, 6_001)) and max(seen.values()) == 1
    assert api.requests <= 127, api.requests

    api = FakeList(seconds, field=field)
    deleted = []

    def delete_an_early_record(n: int) -> None:
        if n % 7 == 0:  # a record we read a page ago: every later record moves up by one
            deleted.append(api.delete_at(api.reached - 60))

    api.on_request = delete_an_early_record
    seen = fake_walk(api)
    assert len(deleted) > 15
    assert set(range(1, 6_001)) - set(deleted) <= set(seen), "a deletion hid another record"
    assert max(seen.values()) == 1


@pytest.mark.parametrize("field", ["created", "updated"])
def test_bursts_among_spread_seconds_cost_one_re_read_a_page(field: str) -> None:
    """Bursts of 60 equal timestamps cost end users a re-read of the burst and a second read of it
    (157 requests for these 6,000); every stream now pays one record a page, the floor."""
    api = FakeList(bursty_seconds(6_000, burst=60, every=440), field=field)
    seen = fake_walk(api)
    assert set(seen) == set(range(1, 6_001)) and max(seen.values()) == 1
    assert api.requests <= fewest_requests(6_000), api.requests


def test_end_users_edited_while_read_hide_no_other_user(caplog) -> None:
    """An edit moves a user we read to the end of the `updated_at` order, so every later record
    moves up by one, as after a deletion: the overlap check catches it and the walk re-anchors."""
    api = FakeList(bursty_seconds(6_000, burst=60, every=100), field="updated")
    moved = []

    def edit_a_user_read_on_the_last_page(n: int) -> None:
        if n % 5 == 0 and api.reached < 5_000:
            moved.append(api.move_to_end(api.reached - 30))

    api.on_request = edit_a_user_read_on_the_last_page
    with caplog.at_level(logging.INFO):
        seen = fake_walk(api)
    assert len(moved) > 15
    assert "re-anchoring" in caplog.text, "no edit shifted a page: the case under test did not happen"
    assert set(seen) == set(range(1, 6_001)), "an edit hid another user"
    # an edited user comes twice (before and after its edit; the merge keeps the newer), any other once
    assert {i: n for i, n in seen.items() if n > 1 and i not in moved} == {}
    assert max(seen.values()) <= 2


def test_an_api_that_ignores_per_page_stops_the_walk_instead_of_looping() -> None:
    """Past a crowded second's first page the walk asks for pages of 49: if the API answered 50 a
    page anyway, every overlap check would fail and the fresh filter would re-read the same page."""
    api = FakeList([1_700_000_000] * 600 + [1_700_000_001] * 10)

    def fetch(params: Dict[str, Any], page: int) -> List[Dict[str, Any]]:
        return api.fetch({k: v for k, v in params.items() if k != "per_page"}, page)

    walk = CursorWalk(fetch, filter_param="created", cursor_field="created_at", per_page=50)
    with pytest.raises(ApiError, match="pages in a row shifted or brought nothing new"):
        list(walk.pages(None, None))
    assert api.requests < 200
