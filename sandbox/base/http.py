"""The wire: a threaded loopback HTTP server whose handler only parses requests and writes outcomes.

Everything an API decides (routing, auth, faults, counters) happens in ``SandboxBase.handle``,
which returns a ``Reply`` or a ``Drop``; this module turns those into bytes on the socket.
"""

from __future__ import annotations

import json
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sandbox.base.routing import Route


class HttpError(Exception):
    """An API-level failure (status + message), rendered by the vendor's error body."""

    def __init__(self, status: int, message: str | list[str]) -> None:
        super().__init__(message if isinstance(message, str) else "; ".join(message))
        self.status = status
        self.message = message


@dataclass
class Request:
    """One parsed request; the pipeline fills ``route``/``params`` and the per-request reply settings."""

    method: str
    path: str  # without the query string and trailing slash
    query: dict[str, str]
    headers: Message
    body: bytes
    route: Route | None = None
    params: dict[str, str] = field(default_factory=dict)  # path parameters of the route
    reply_headers: dict[str, str] = field(default_factory=dict)  # sent with every reply to this request
    count_status: bool = True  # whether replies count in ``status_counts``

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type") or ""


@dataclass
class Reply:
    """An answer to send; ``processed`` means the route's handler ran (a write may have happened)."""

    status: int
    payload: Any
    headers: dict[str, str] = field(default_factory=dict)
    processed: bool = False
    truncate: bool = False


@dataclass(frozen=True)
class Drop:
    """Abort the connection with a TCP reset and no answer at all."""


Outcome = Reply | Drop


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def dumps(payload: Any) -> bytes:
    """Compact UTF-8 JSON, as both APIs send it."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=_json_default).encode("utf-8")


class QuietHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128  # concurrent benchmark clients must not be refused
    verbose = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up mid-response are normal under fault injection; stay quiet."""
        if self.verbose:
            super().handle_error(request, client_address)


class SandboxHandler(BaseHTTPRequestHandler):
    """Parses, asks ``app.handle`` and writes the outcome; subclasses bind ``app`` and the methods."""

    protocol_version = "HTTP/1.1"  # keep-alive; every response carries Content-Length
    timeout = 300
    app: Any  # a SandboxBase (typed loosely to keep this module free of the pipeline)

    def setup(self) -> None:
        super().setup()
        # headers and body go out in two writes; without NODELAY, Nagle + delayed ACK adds ~40 ms
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        if self.app.verbose:
            super().log_message(format, *args)

    def _handle(self, method: str) -> None:
        split = urlsplit(self.path)
        path = split.path.rstrip("/") or "/"
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        outcome = self.app.handle(Request(method, path, query, self.headers, self._read_body()))
        if isinstance(outcome, Drop):
            self._reset_connection()
        else:
            self._send(outcome)

    def _send(self, reply: Reply) -> None:
        body = dumps(reply.payload)
        if reply.truncate:
            body = body[: len(body) // 2]
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _reset_connection(self) -> None:
        """Abort with RST (SO_LINGER 0) and no response at all."""
        self.close_connection = True
        try:
            self.wfile.flush()
        except OSError:
            pass
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    def _read_body(self) -> bytes:
        """Content-Length or chunked bodies (a streaming upload sends the latter)."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""


def handler_class(app: Any, server_version: str, methods: tuple[str, ...]) -> type[SandboxHandler]:
    """A handler bound to ``app`` answering ``methods`` (others get the standard library's 501)."""

    def verb(method: str) -> Callable[[SandboxHandler], None]:
        def do(self: SandboxHandler) -> None:
            self._handle(method)

        return do

    attrs: dict[str, Any] = {"app": app, "server_version": server_version}
    attrs.update({f"do_{m}": verb(m) for m in methods})
    return type("BoundSandboxHandler", (SandboxHandler,), attrs)
