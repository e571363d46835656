"""The fault queue: order, path prefix, method, ``every`` and ``times``, and its validation."""

from __future__ import annotations

import pytest

from sandbox.base.faults import FaultQueue

KINDS = ("500", "503", "reset", "slow")


def kinds_taken(queue: FaultQueue, requests: list[tuple[str, str]]) -> list[str | None]:
    out = []
    for method, path in requests:
        fault = queue.take(method, path)
        out.append(fault.kind if fault else None)
    return out


def test_faults_apply_in_queue_order_and_run_out() -> None:
    queue = FaultQueue(KINDS)
    queue.add("503", "/v1/", times=2)
    queue.add("500", "/v1/")
    queue.add("reset", "/v2/")
    got = kinds_taken(queue, [("GET", "/v2/x"), ("GET", "/v1/a"), ("GET", "/v1/b"), ("GET", "/v1/c"), ("GET", "/v1/d")])
    assert got == ["reset", "503", "503", "500", None]
    assert queue.pending() == []


def test_method_and_every_select_requests() -> None:
    queue = FaultQueue(KINDS)
    queue.add("500", "/t", times=2, method="post", every=3)
    got = kinds_taken(queue, [("POST", "/t")] * 4 + [("GET", "/t")] + [("POST", "/t")] * 3)
    assert got == [None, None, "500", None, None, None, "500", None]


def test_clear_drops_everything() -> None:
    queue = FaultQueue(KINDS)
    queue.add("slow", seconds=0.5)
    assert queue.pending()[0].seconds == 0.5 and queue.pending()[0].path_prefix == "/"
    queue.clear()
    assert queue.take("GET", "/anything") is None


def test_validation_messages() -> None:
    queue = FaultQueue(KINDS)
    with pytest.raises(ValueError, match="unknown fault kind 'teapot'"):
        queue.add("teapot")
    with pytest.raises(ValueError, match="^times and every must be >= 1$"):
        queue.add("500", every=0)
    path_only = FaultQueue(KINDS, default_prefix="/v1/", selectors=False)
    with pytest.raises(ValueError, match="^times must be >= 1$"):
        path_only.add("500", times=0)
    with pytest.raises(ValueError, match="path only"):
        path_only.add("500", method="GET")


def test_admin_json_body() -> None:
    queue = FaultQueue(KINDS, default_prefix="/v1/", selectors=False)
    fault = queue.add_from_json({"kind": "503", "times": 2, "method": "POST", "every": 5})  # selectors ignored
    assert (fault.kind, fault.path_prefix, fault.remaining, fault.method, fault.every) == ("503", "/v1/", 2, None, 1)
    selective = FaultQueue(KINDS)
    fault = selective.add_from_json({"kind": "500", "path_prefix": "/x", "method": "post", "every": "2"})
    assert (fault.path_prefix, fault.method, fault.every) == ("/x", "POST", 2)
    with pytest.raises(ValueError):
        selective.add_from_json({"kind": "500", "times": "many"})
