"""The shared request pipeline, on a toy vendor, with a fake clock and sleep (no real waiting).

``SandboxBase.handle`` does no I/O, so most of this calls it directly; one test goes over
loopback HTTP to pin down what the handler writes on the wire.
"""

from __future__ import annotations

import http.client
import json
from email.message import Message
from typing import Any

import pytest
import requests

from sandbox.base import COMMON_STATS, Drop, FaultQueue, HttpError, Reply, Request, Route, SandboxBase
from sandbox.base.faults import Fault
from tests.sandbox.support import FakeTime


class Toy(SandboxBase):
    """A minimal vendor: a list of items, errors on demand, faults rendered as ``{"fault": kind}``."""

    name = "toy"
    server_version = "ToySandbox/1.0"

    def __init__(self, *, truncate_unprocessed: bool = True, **settings: Any) -> None:
        self.items: list[str] = []
        self.truncate_unprocessed = truncate_unprocessed
        routes = [
            Route("GET", "/items", lambda req: (200, self.items)),
            Route("POST", "/items", self._add),
            Route("GET", "/items/{n}", self._get),
            Route("GET", "/boom", self._boom),
        ]
        faults = FaultQueue({"500", "reset", "slow", "truncated", "lost_answer"})
        super().__init__(routes=routes, faults=faults, stats={**COMMON_STATS, "lost_answers": int}, **settings)

    def _add(self, req: Request) -> tuple[int, Any]:
        self.items.append(req.body.decode())
        return 201, {"added": req.body.decode()}

    def _get(self, req: Request) -> tuple[int, Any]:
        n = req.params["n"]
        if not n.isdigit():
            raise HttpError(400, "n must be a number")
        return 200, self.items[int(n)]

    def _boom(self, req: Request) -> tuple[int, Any]:
        raise RuntimeError("bug")

    def begin(self, req: Request) -> None:
        super().begin(req)
        req.reply_headers["X-Seq"] = str(self.counters.get("requests"))

    def fault_reply(self, req: Request, fault: Fault) -> Reply:
        return Reply(int(fault.kind), {"fault": fault.kind}, {"X-Fault": "1"})

    def answer(self, req: Request) -> Reply:
        if req.route is None:
            return Reply(404, {"error": "Not Found"})
        decision = self.rate.consume()
        if decision is not None and not decision.allowed:
            return Reply(429, {"error": "slow down"}, {"Retry-After": str(decision.retry_after)})
        return self.run(req)

    def truth(self, kind: str) -> Any:
        return self.items if kind == "items" else None

    def mutate(self, data: dict[str, Any]) -> Any:
        self.items.extend(data["add"])
        return {"items": len(self.items)}


def request(method: str, path: str, body: bytes = b"", **query: str) -> Request:
    return Request(method, path, dict(query), Message(), body)


@pytest.fixture()
def fake() -> FakeTime:
    return FakeTime()


@pytest.fixture()
def toy(fake: FakeTime) -> Toy:
    return Toy(clock=fake.clock, sleep=fake.sleep, slow_seconds=2.5)


def reply(toy: Toy, method: str, path: str, body: bytes = b"") -> Reply:
    out = toy.handle(request(method, path, body))
    assert isinstance(out, Reply), out
    return out


def test_routes_errors_and_counters(toy: Toy) -> None:
    assert reply(toy, "POST", "/items", b"a").status == 201
    ok = reply(toy, "GET", "/items/0")
    assert (ok.status, ok.payload, ok.headers, ok.processed) == (200, "a", {"X-Seq": "2"}, True)
    assert reply(toy, "GET", "/items/x").payload == {"error": "n must be a number"}
    bug = reply(toy, "GET", "/boom")
    assert bug.status == 500 and bug.payload == {"error": "sandbox error: RuntimeError: bug"}
    missing = reply(toy, "GET", "/nope")
    assert missing.status == 404 and not missing.processed
    stats = toy.stats()
    assert stats["requests"] == 5 and stats["status_counts"] == {201: 1, 200: 1, 400: 1, 500: 1, 404: 1}
    assert stats["by_path"] == {"/items": 1, "/items/0": 1, "/items/x": 1, "/boom": 1, "/nope": 1}


def test_transport_faults(toy: Toy, fake: FakeTime) -> None:
    toy.faults.add("reset", "/items")
    assert isinstance(toy.handle(request("GET", "/items")), Drop)
    toy.faults.add("slow")
    toy.faults.add("slow", seconds=0.25)
    assert reply(toy, "GET", "/items").status == 200 and reply(toy, "GET", "/items").status == 200
    assert fake.slept == [2.5, 0.25]
    toy.faults.add("truncated")
    assert reply(toy, "GET", "/items").truncate
    toy.faults.add("500")
    failed = reply(toy, "GET", "/items")
    assert (failed.status, failed.payload, failed.headers) == (500, {"fault": "500"}, {"X-Seq": "5", "X-Fault": "1"})
    assert toy.stats()["faults"] == {"reset": 1, "slow": 2, "truncated": 1, "500": 1}
    assert toy.stats()["status_counts"] == {200: 3, 500: 1}  # a reset answers nothing


def test_truncated_on_an_unprocessed_answer_follows_the_vendor(fake: FakeTime) -> None:
    for cut_all in (True, False):
        toy = Toy(truncate_unprocessed=cut_all, clock=fake.clock, sleep=fake.sleep)
        toy.faults.add("truncated")
        assert reply(toy, "GET", "/nope").truncate is cut_all


def test_lost_answer_applies_the_write_then_drops(toy: Toy, fake: FakeTime) -> None:
    toy.faults.add("lost_answer", "/items", seconds=0.75)
    assert isinstance(toy.handle(request("POST", "/items", b"kept")), Drop)
    assert toy.items == ["kept"] and fake.slept == [0.75]
    toy.faults.add("lost_answer")
    assert reply(toy, "GET", "/nope").status == 404  # nothing processed: the answer comes
    stats = toy.stats()
    assert stats["lost_answers"] == 1 and stats["faults"] == {"lost_answer": 2}


def test_rate_limit_uses_the_injected_clock(fake: FakeTime) -> None:
    toy = Toy(rate_limit=2, rate_window=10, clock=fake.clock, sleep=fake.sleep)
    assert [reply(toy, "GET", "/items").status for _ in range(3)] == [200, 200, 429]
    assert reply(toy, "GET", "/items").headers["Retry-After"] == "10"
    fake.now += 10
    assert reply(toy, "GET", "/items").status == 200
    assert toy.stats()["rate_limited"] == 2 and toy.rate_limit == 2 and toy.rate_window == 10


def test_admin_routes_are_not_counted(toy: Toy) -> None:
    assert reply(toy, "POST", "/_sandbox/mutate", b'{"add": ["x", "y"]}').payload == {"items": 2}
    assert reply(toy, "GET", "/_sandbox/truth/items").payload == ["x", "y"]
    assert reply(toy, "GET", "/_sandbox/truth/nope").status == 404
    assert reply(toy, "POST", "/_sandbox/mutate", b'{"nope": 1}').payload == {"error": "KeyError: 'add'"}
    assert reply(toy, "POST", "/_sandbox/faults", b'{"kind": "500", "times": 2}').payload == {"ok": True}
    assert reply(toy, "POST", "/_sandbox/faults", b'{"kind": "418"}').status == 400
    assert len(toy.faults.pending()) == 1
    assert reply(toy, "POST", "/_sandbox/clear_faults").payload == {"ok": True} and not toy.faults.pending()
    assert reply(toy, "GET", "/_sandbox/stats", b"{not json").payload == {"error": "body must be JSON"}
    assert reply(toy, "GET", "/_sandbox/nope").status == 404
    assert reply(toy, "GET", "/_sandbox/stats").payload["requests"] == 0
    reply(toy, "GET", "/items")
    assert reply(toy, "POST", "/_sandbox/reset_stats").payload["requests"] == 0


def test_wire_format_over_loopback() -> None:
    with Toy() as toy:
        assert toy.url.startswith("http://127.0.0.1:")
        chunks = (part for part in (b"chu", b"nked"))  # a generator makes requests send it chunked
        r = requests.post(f"{toy.url}/items", data=chunks, timeout=5)
        assert r.status_code == 201 and r.json() == {"added": "chunked"}
        assert r.headers["Content-Type"] == "application/json; charset=utf-8" and r.headers["X-Seq"] == "1"
        assert r.headers["Server"].startswith("ToySandbox/1.0")
        toy.faults.add("truncated")
        r = requests.get(f"{toy.url}/items", timeout=5)
        assert r.content == b'["chu' and r.headers["Content-Length"] == "5"  # half of ["chunked"]
        with pytest.raises(json.JSONDecodeError):
            json.loads(r.content)
        toy.faults.add("reset")
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{toy.url}/items", timeout=5)
        conn = http.client.HTTPConnection("127.0.0.1", toy.port, timeout=5)
        conn.request("PATCH", "/items")
        assert conn.getresponse().status == 501  # not one of the toy's methods
        conn.close()
    assert toy._httpd is None
