"""A loopback server whose routes answer as a hostile or broken API would: echo the credentials they
were sent, redirect to another origin, ask for waits of years, page without end, send gigabytes.

Routes are `"METHOD /path/prefix"` (or a bare prefix for any method) mapped to a function of the
request; the longest matching prefix answers. Every request is kept for the test to inspect.
"""

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, Iterable, List, Optional, Union
from urllib.parse import parse_qs, urlsplit


@dataclass
class HostileRequest:
    method: str
    path: str
    query: Dict[str, str]
    headers: Dict[str, str]
    body: bytes


@dataclass
class Answer:
    status: int = 200
    headers: Dict[str, str] = field(default_factory=dict)
    #: bytes, or chunks sent one by one (a body larger than memory is never built)
    body: Union[bytes, Iterable[bytes]] = b""


Responder = Callable[[HostileRequest], Answer]


def json_answer(status: int, payload: Any, headers: Optional[Dict[str, str]] = None) -> Answer:
    return Answer(status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(payload).encode())


class HostileServer:
    def __init__(self, routes: Dict[str, Responder], host: str = "127.0.0.1") -> None:
        self.routes = dict(routes)
        self.requests: List[HostileRequest] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                request = HostileRequest(
                    self.command,
                    parts.path,
                    {k: v[-1] for k, v in parse_qs(parts.query).items()},
                    dict(self.headers.items()),
                    self.rfile.read(length) if length else b"",
                )
                server.requests.append(request)
                answer = server.answer(request)
                self.send_response(answer.status)
                chunks = [answer.body] if isinstance(answer.body, bytes) else answer.body
                streamed = not isinstance(answer.body, bytes)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                if streamed:
                    self.send_header("Transfer-Encoding", "chunked")
                else:
                    self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                try:
                    for chunk in chunks:
                        if streamed:
                            self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                        else:
                            self.wfile.write(chunk)
                    if streamed:
                        self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client gave up reading: that is the point

            do_GET = do_POST = do_PUT = do_DELETE = _serve  # noqa: N815 - http.server's names

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer((host, 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://{host}:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def answer(self, request: HostileRequest) -> Answer:
        best, responder = -1, None
        for key, candidate in self.routes.items():
            method, _, prefix = key.rpartition(" ")
            if (not method or method == request.method) and request.path.startswith(prefix) and len(prefix) > best:
                best, responder = len(prefix), candidate
        return responder(request) if responder else json_answer(404, {"message": "no such route"})

    def start(self) -> "HostileServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> "HostileServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
