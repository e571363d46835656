"""The Woku client's paging: the envelope, where it stops, and the newest-first floor."""

from datetime import datetime, timedelta, timezone
from typing import Any, List

import pytest

from sandbox.hostile import HostileServer, json_answer
from sandbox.woku import WokuSandboxServer, generate_company
from sources.http_kit import ApiError
from sources.woku.helpers.client import WokuClient, envelope

T0 = datetime(2024, 5, 1, tzinfo=timezone.utc)


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_envelope_shapes() -> None:
    assert envelope({"data": [{"_id": 1}], "total": 3, "page": 1, "limit": 1}, "/x") == ([{"_id": 1}], 3, 1)
    assert envelope([{"_id": 1}, {"_id": 2}], "/x") == ([{"_id": 1}, {"_id": 2}], None, 2)
    with pytest.raises(ApiError, match="no numeric total"):
        envelope({"data": [], "total": "3"}, "/x")
    with pytest.raises(ApiError, match="expected a page envelope"):
        envelope({"items": []}, "/x")


def test_pages_read_to_the_total_over_http() -> None:
    company = generate_company(seed=61, nps_responses=250)
    with WokuSandboxServer(company) as server:
        client = WokuClient(server.url, server.api_key)
        pages = list(client.pages("/v1/nps"))
        assert [len(p) for p in pages] == [100, 100, 50]
        assert sorted(r["_id"] for p in pages for r in p) == sorted(company.ids("nps_responses"))
        assert server.stats()["by_route"]["GET /v1/nps"] == 3


def serve_pages(pages: List[Any]) -> HostileServer:
    """`pages[page - 1]` for `?page=N`; the server keeps every request's query."""
    return HostileServer({"GET /": lambda r: json_answer(200, pages[int(r.query["page"]) - 1])}).start()


@pytest.mark.parametrize(
    "pages, sizes",
    [
        # a short page ends the list even when `total` says more
        (
            [
                {"data": [{"_id": "a"}] * 100, "total": 500, "page": 1, "limit": 100},
                {"data": [{"_id": "b"}] * 40, "total": 500, "page": 2, "limit": 100},
            ],
            [100, 40],
        ),
        # `total` reached on a full page: no request for an empty page after it
        (
            [
                {"data": [{"_id": "a"}] * 100, "total": 200, "page": 1, "limit": 100},
                {"data": [{"_id": "b"}] * 100, "total": 200, "page": 2, "limit": 100},
            ],
            [100, 100],
        ),
        # a bare array is the whole list
        ([[{"_id": "a"}, {"_id": "b"}]], [2]),
    ],
)
def test_the_envelope_paginator_reads_to_the_end_and_no_further(pages, sizes) -> None:
    server = serve_pages(pages)
    try:
        client = WokuClient(server.url, "key-123456", limit=100)
        assert [len(p) for p in client.pages("/v1/x", {"from": "2024-01-01"})] == sizes
    finally:
        server.stop()
    queries = [r.query for r in server.requests]
    assert [q["page"] for q in queries] == [str(n) for n in range(1, len(sizes) + 1)]
    assert all(q["limit"] == "100" and q["from"] == "2024-01-01" for q in queries)


def _client_with_pages(pages):
    client = WokuClient("http://127.0.0.1:9", "k")
    client.pages = lambda path, params=None: iter(pages)  # type: ignore[method-assign]
    return client


def test_newest_first_lists_stop_at_the_floor() -> None:
    newest_first = [
        [{"_id": str(i), "createdAt": iso(T0 - timedelta(days=i))} for i in range(0, 3)],
        [{"_id": str(i), "createdAt": iso(T0 - timedelta(days=i))} for i in range(3, 6)],
        [{"_id": "never read", "createdAt": iso(T0 - timedelta(days=9))}],
    ]
    got = list(_client_with_pages(newest_first).pages_since("/x", T0 - timedelta(days=4)))
    assert [[r["_id"] for r in p] for p in got] == [["0", "1", "2"], ["3", "4"]]


def test_a_list_out_of_order_is_read_to_its_end() -> None:
    shuffled = [
        [{"_id": "old", "createdAt": iso(T0 - timedelta(days=9))}, {"_id": "new", "createdAt": iso(T0)}],
        [{"_id": "newer", "createdAt": iso(T0 + timedelta(days=1))}],
    ]
    got = list(_client_with_pages(shuffled).pages_since("/x", T0 - timedelta(days=4)))
    assert [[r["_id"] for r in p] for p in got] == [["new"], ["newer"]]
