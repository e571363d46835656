"""Unauthenticated ``/_sandbox/*`` endpoints shared by every sandbox.

A pipeline under test runs in another process; these let a test read ground truth and
counters, inject faults and change the data, over the same loopback port.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Protocol

from sandbox.base.faults import FaultQueue
from sandbox.base.http import HttpError, Reply, Request
from sandbox.base.routing import Route, Router

ADMIN_PREFIX = "/_sandbox/"
NOT_FOUND = {"error": "Not Found"}
OK = {"ok": True}


class Steerable(Protocol):
    """What the admin routes need of a sandbox (``SandboxBase`` provides it)."""

    faults: FaultQueue

    def stats(self) -> dict[str, Any]: ...

    def reset_stats(self) -> None: ...

    def clear_faults(self) -> None: ...

    def truth(self, kind: str) -> Any: ...

    def mutate(self, data: dict[str, Any]) -> Any: ...


class Admin:
    """Routes admin requests; vendor routes (``extra``) take handlers ``(request, json_body)`` too."""

    def __init__(self, sandbox: Steerable, extra: Iterable[Route] = ()) -> None:
        self.sandbox = sandbox
        common = [
            Route("GET", "/_sandbox/stats", lambda req, data: (200, sandbox.stats())),
            Route("POST", "/_sandbox/reset_stats", self._reset_stats),
            Route("GET", "/_sandbox/truth/{kind}", self._truth),
            Route("POST", "/_sandbox/faults", self._faults),
            Route("POST", "/_sandbox/clear_faults", self._clear_faults),
            Route("POST", "/_sandbox/mutate", self._mutate),
        ]
        self.router = Router([*common, *extra])

    def handle(self, req: Request) -> Reply:
        try:
            data = json.loads(req.body) if req.body.strip() else {}
        except ValueError:
            return Reply(400, {"error": "body must be JSON"})
        hit = self.router.match(req.method, req.path)
        if hit is None:
            return Reply(404, NOT_FOUND)
        route, req.params = hit
        status, payload = route.handler(req, data)
        return Reply(status, payload)

    def _reset_stats(self, req: Request, data: Any) -> tuple[int, Any]:
        self.sandbox.reset_stats()
        return 200, self.sandbox.stats()

    def _truth(self, req: Request, data: Any) -> tuple[int, Any]:
        truth = self.sandbox.truth(req.params["kind"])
        return (404, NOT_FOUND) if truth is None else (200, truth)

    def _faults(self, req: Request, data: Any) -> tuple[int, Any]:
        try:
            self.sandbox.faults.add_from_json(data)
        except (TypeError, ValueError) as exc:
            return 400, {"error": str(exc)}
        return 200, OK

    def _clear_faults(self, req: Request, data: Any) -> tuple[int, Any]:
        self.sandbox.clear_faults()
        return 200, OK

    def _mutate(self, req: Request, data: Any) -> tuple[int, Any]:
        try:
            return 200, self.sandbox.mutate(data)
        except (KeyError, TypeError, ValueError, HttpError) as exc:
            return 400, {"error": f"{type(exc).__name__}: {exc}"}
