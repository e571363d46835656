"""The cursor walk past the 30-page cap, over real HTTP against the sandbox."""

import logging
from collections import Counter

import pytest

from sandbox.wootric import generate_account
from sources.record_kit.timestamps import epoch_seconds
from sources.wootric.helpers.client import WootricClient
from sources.wootric.helpers.credentials import WootricClientCredentials


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


def test_a_deletion_during_the_walk_hides_no_other_record(start_sandbox) -> None:
    """Offset pages shift left when an earlier record is deleted; re-anchoring every page absorbs it."""
    account = generate_account(seed=14, end_users=50, responses=1200, declines=5)
    server = start_sandbox(account)
    client = client_for(server)
    read = []
    deleted = []
    original = client.list_page

    def list_page(stream, params, page):
        rows = original(stream, params, page)
        read.extend(r["id"] for r in rows)
        if len(read) > 400 and not deleted:
            deleted.append(read[10])
            account.delete("responses", read[10])
        return rows

    client.list_page = list_page
    seen = walk_ids(client, "responses")
    assert deleted
    assert set(seen) == {r["id"] for r in account.truth("responses")} | set(deleted)
    assert max(seen.values()) == 1


def test_end_users_edited_inside_a_crowded_second_are_all_read(start_sandbox) -> None:
    account = generate_account(seed=15, end_users=400, responses=10, declines=5, bursts=((220, "end_users"),))
    server = start_sandbox(account)
    client = client_for(server)
    calls, moved = [], []
    original = client.list_page

    def list_page(stream, params, page):
        rows = original(stream, params, page)
        calls.append(params)
        if "updated[eq]" in params and page == 2 and len(calls) < 100:
            moved.append(rows[0]["id"])
            account.update_end_users([rows[0]["id"]])  # moves out of the crowded second mid-read
        return rows

    client.list_page = list_page
    seen = walk_ids(client, "end_users")
    assert moved, "the walk never read page 2 of the crowded second: the edit under test did not happen"
    assert set(seen) == {r["id"] for r in account.truth("end_users")}
    # an edited user may come twice (before and after its edit; merge keeps the newer), any other once
    assert {i: n for i, n in seen.items() if n > 1 and i not in moved} == {}
    assert all(seen[i] <= 2 for i in moved)
