"""``SandboxBase``: lifecycle and the request pipeline every vendor sandbox shares.

Pipeline of one request: admin routes; route lookup and ``begin`` (the vendor counts it);
the next queued fault (transport faults here, status faults via ``fault_reply``); ``answer``
(the vendor's auth, rate limit and route handler); then a lost answer or a truncated body.
A vendor subclass declares its routes, auth, data and error shapes through the hooks below.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any, Self, TypedDict

from sandbox.base.admin import ADMIN_PREFIX, Admin
from sandbox.base.faults import LOST_ANSWER, RESET, SLOW, TRUNCATED, Fault, FaultQueue
from sandbox.base.http import Drop, HttpError, Outcome, QuietHTTPServer, Reply, Request, handler_class
from sandbox.base.rate import Clock, RateWindow
from sandbox.base.routing import Route, Router
from sandbox.base.stats import Stats

COMMON_STATS: dict[str, type[int] | type[Counter[Any]]] = {
    "requests": int,
    "by_path": Counter,
    "status_counts": Counter,
    "rate_limited": int,
    "faults": Counter,
}


class ServerSettings(TypedDict, total=False):
    """Constructor arguments every sandbox takes; vendors accept them as ``**settings``."""

    host: str  # default 127.0.0.1: the sandboxes never listen beyond loopback unless told to
    port: int  # default 0: a free port
    rate_limit: int | None  # requests per window; default None: unlimited
    rate_window: float  # seconds; default 60
    slow_seconds: float  # delay of a ``slow`` fault without its own ``seconds``; default 5
    verbose: bool  # log requests and sandbox errors; default False
    clock: Clock  # epoch seconds for tokens and rate windows; default time.time (tests inject a fake)
    sleep: Callable[[float], None]  # how a ``slow`` fault waits; default time.sleep


class SandboxBase:
    """Threaded loopback API look-alike; ``start()`` binds 127.0.0.1 on a free port by default."""

    name = "sandbox"  # thread name prefix
    server_version = "Sandbox/1.0"
    methods: tuple[str, ...] = ("GET", "POST", "PUT", "DELETE")
    truncate_unprocessed = True  # False: a ``truncated`` fault only cuts answers of requests a handler ran

    def __init__(
        self,
        *,
        routes: Iterable[Route],
        faults: FaultQueue,
        stats: Mapping[str, type[int] | type[Counter[Any]]] = COMMON_STATS,
        admin_routes: Iterable[Route] = (),
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limit: int | None = None,
        rate_window: float = 60.0,
        slow_seconds: float = 5.0,
        verbose: bool = False,
        clock: Clock = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.host, self.port = host, port
        self.slow_seconds = slow_seconds
        self.verbose = verbose
        self.clock, self.sleep = clock, sleep
        self.router = Router(routes)
        self.faults = faults
        self.rate = RateWindow(rate_limit, rate_window, clock=clock)
        self.counters = Stats(stats)
        self.admin = Admin(self, admin_routes)
        self._httpd: QuietHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> str:
        """Bind and serve in a daemon thread; returns the base URL."""
        if self._httpd is not None:
            return self.url
        httpd = QuietHTTPServer((self.host, self.port), handler_class(self, self.server_version, self.methods))
        httpd.verbose = self.verbose
        self._httpd = httpd
        self.port = httpd.server_address[1]
        # a short poll interval keeps stop() fast: tests start a server per test
        serve = partial(httpd.serve_forever, poll_interval=0.05)
        self._thread = threading.Thread(target=serve, name=f"{self.name}-sandbox", daemon=True)
        self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def rate_limit(self) -> int | None:
        return self.rate.limit

    @rate_limit.setter
    def rate_limit(self, value: int | None) -> None:
        self.rate.limit = value

    @property
    def rate_window(self) -> float:
        return self.rate.window

    @rate_window.setter
    def rate_window(self, value: float) -> None:
        self.rate.window = value

    # ------------------------------------------------------------------ faults and stats
    def clear_faults(self) -> None:
        self.faults.clear()

    def stats(self) -> dict[str, Any]:
        """Counters since the last reset (tally keys become JSON object keys)."""
        return self.counters.snapshot()

    def reset_stats(self) -> None:
        self.counters.reset()

    def count_status(self, status: int) -> None:
        self.counters.bump("status_counts", status)
        if status == 429:
            self.counters.add("rate_limited")

    # ------------------------------------------------------------------ vendor hooks
    def begin(self, req: Request) -> None:
        """Count the request; may set ``req.reply_headers`` and ``req.count_status``."""
        self.counters.add("requests")
        self.counters.bump("by_path", self.path_key(req))

    def path_key(self, req: Request) -> str:
        """The ``by_path`` key of a request."""
        return req.path

    def fault_reply(self, req: Request, fault: Fault) -> Reply:
        """The answer to a status fault (``500``, ``429``, ``401``...)."""
        raise NotImplementedError

    def answer(self, req: Request) -> Reply:
        """Auth, rate limit and routing; usually ends with ``self.run(req)``."""
        raise NotImplementedError

    def error_payload(self, status: int, message: str | list[str]) -> Any:
        """The API's body for an error status."""
        return {"error": message}

    def truth(self, kind: str) -> Any:
        """Ground truth of one kind for the admin route (JSON-ready), or None for an unknown kind."""
        return None

    def mutate(self, data: dict[str, Any]) -> Any:
        """Apply the admin ``mutate`` body; raise KeyError/TypeError/ValueError on a bad one."""
        raise ValueError("this sandbox has no mutations")

    # ------------------------------------------------------------------ pipeline
    def handle(self, req: Request) -> Outcome:
        """Decide the outcome of one request (no I/O here, so it can be tested without a socket)."""
        if req.path.startswith(ADMIN_PREFIX):
            return self.admin.handle(req)
        hit = self.router.match(req.method, req.path)
        if hit is not None:
            req.route, req.params = hit
        self.begin(req)
        truncate, lost = False, None
        fault = self.faults.take(req.method, req.path)
        if fault is not None:
            self.counters.bump("faults", fault.kind)
            if fault.kind == RESET:
                return Drop()
            if fault.kind == SLOW:
                self.sleep(fault.seconds if fault.seconds is not None else self.slow_seconds)
            elif fault.kind == TRUNCATED:
                truncate = True
            elif fault.kind == LOST_ANSWER:
                lost = fault
            else:
                return self._finish(req, self.fault_reply(req, fault))
        reply = self.answer(req)
        if lost is not None and reply.processed:
            if lost.seconds:
                self.sleep(lost.seconds)
            self.counters.add("lost_answers")
            return Drop()
        reply.truncate = truncate and (reply.processed or self.truncate_unprocessed)
        return self._finish(req, reply)

    def _finish(self, req: Request, reply: Reply) -> Reply:
        if req.count_status:
            self.count_status(reply.status)
        reply.headers = {**req.reply_headers, **reply.headers}
        return reply

    def run(self, req: Request, headers: dict[str, str] | None = None) -> Reply:
        """Call the matched route's handler; API errors and sandbox bugs both answer in JSON."""
        assert req.route is not None
        try:
            status, payload = req.route.handler(req)
        except HttpError as exc:
            status, payload = exc.status, self.error_payload(exc.status, exc.message)
        except Exception as exc:  # noqa: BLE001 - a sandbox bug must still answer in JSON
            if self.verbose:
                traceback.print_exc()
            status, payload = 500, self.error_payload(500, f"sandbox error: {type(exc).__name__}: {exc}")
        return Reply(status, payload, headers or {}, processed=True)
