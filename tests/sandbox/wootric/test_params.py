"""Tests of the Wootric sandbox's query parameters (``sandbox/wootric/params.py``), over loopback HTTP:
range filters, the page cap and page size, sort keys and combined filters.
"""

from __future__ import annotations

import pytest
import requests

from sandbox.wootric import Account, SandboxServer
from tests.sandbox.wootric.support import epoch, fetch_all


@pytest.mark.parametrize("op", ["gt", "gte", "lt", "lte", "eq"])
def test_created_filters_match_truth(server: SandboxServer, api: requests.Session, account: Account, op: str) -> None:
    truth = account.truth("declines")
    pivot = epoch(sorted(truth, key=lambda r: r["created_at"])[200]["created_at"])
    check = {
        "gt": lambda t: t > pivot,
        "gte": lambda t: t >= pivot,
        "lt": lambda t: t < pivot,
        "lte": lambda t: t <= pivot,
        "eq": lambda t: t == pivot,
    }[op]
    got = fetch_all(api, f"{server.url}/v1/declines", {f"created[{op}]": f"{pivot}.7", "sort_order": "asc"})
    want = sorted((r for r in truth if check(epoch(r["created_at"]))), key=lambda r: (r["created_at"], r["id"]))
    assert [r["id"] for r in got] == [r["id"] for r in want]


def test_page_cap_and_per_page(server: SandboxServer, api: requests.Session) -> None:
    url = f"{server.url}/v1/responses"
    r = api.get(url, params={"page": 31})
    assert r.status_code == 400
    assert r.json() == {"errors": [{"status": 400, "message": "page can't be greater than 30"}]}
    assert len(api.get(url, params={"per_page": 500}).json()) == 50
    assert api.get(url, params={"per_page": 0}).status_code == 400
    assert api.get(url, params={"page": "x"}).status_code == 400
    assert api.get(url, params={"created[gt]": "yesterday"}).status_code == 400
    # page 30 is the deepest reachable: 1500 records of 3000
    assert len(api.get(url, params={"page": 30, "per_page": 50}).json()) == 50


def test_end_users_sorting_and_filters(server: SandboxServer, api: requests.Session, account: Account) -> None:
    users = account.truth("end_users")
    url = f"{server.url}/v1/end_users"
    got = api.get(url, params={"per_page": 50}).json()
    assert [u["email"] for u in got] == sorted(u["email"] for u in users)[:50]
    lo = epoch(sorted(u["updated_at"] for u in users)[100])
    got = fetch_all(api, url, {"sort_key": "updated_at", "sort_order": "desc", "updated[gte]": lo})
    want = sorted((u for u in users if epoch(u["updated_at"]) >= lo), key=lambda u: (u["updated_at"], u["id"]))[::-1]
    assert [u["id"] for u in got] == [u["id"] for u in want]
    # two range filters on different fields, sorted by a third key
    c_hi = epoch(sorted(u["created_at"] for u in users)[250])
    got = fetch_all(api, url, {"updated[gte]": lo, "created[lte]": c_hi})
    want = sorted(
        (u for u in users if epoch(u["updated_at"]) >= lo and epoch(u["created_at"]) <= c_hi), key=lambda u: u["email"]
    )
    assert [u["id"] for u in got] == [u["id"] for u in want]
    one = api.get(url, params={"email": users[5]["email"]}).json()
    assert [u["id"] for u in one] == [users[5]["id"]]
    assert api.get(url, params={"sort_key": "score"}).status_code == 400
