"""Errors are data: an ApiError carries the request and the parsed answer, and never a secret."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator, List

import pytest

from sandbox.hostile import Answer, HostileServer
from sources.http_kit import ApiClient, ApiError, ApiUnavailableError, RetryPolicy, StaticBearerAuth


class _Echo(BaseHTTPRequestHandler):
    """Answers every request with the status in its path and a body that echoes the request headers."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path.startswith("/text"):
            status, body = 418, b"plain\n  teapot"
        else:
            status = int(self.path.strip("/").split("?")[0])
            body = json.dumps({"message": f"bad request, you sent {self.headers.get('Authorization')}"}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Request-Id", "r-1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def echo() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_4xx_carries_method_url_status_headers_and_parsed_body_without_the_key(echo: str) -> None:
    client = ApiClient(echo, auth=StaticBearerAuth("key-echoed-123456"))
    with pytest.raises(ApiError) as err:
        client.get("/400", {"page": 2})
    exc = err.value
    assert (exc.method, exc.url, exc.status) == ("GET", f"{echo}/400", 400)
    assert exc.headers["X-Request-Id"] == "r-1"
    assert exc.body == {"message": "bad request, you sent Bearer key-echoed-123456"}
    assert exc.describe() == "HTTP 400: bad request, you sent Bearer ***"
    assert str(exc) == f"GET {echo}/400: HTTP 400: bad request, you sent Bearer ***"
    assert "key-echoed-123456" not in str(exc) + repr(exc) + exc.reason


def test_a_text_body_is_one_line(echo: str) -> None:
    with pytest.raises(ApiError) as err:
        ApiClient(echo, sleep=_no_sleep).get("/text")
    assert err.value.body == "plain\n  teapot"
    assert err.value.describe() == "HTTP 418: plain teapot"


def test_retries_use_the_injected_sleep_and_the_error_keeps_the_last_answer(echo: str) -> None:
    slept: List[float] = []
    client = ApiClient(echo, retry=RetryPolicy(max_attempts=3, backoff_base=10, backoff_max=60), sleep=slept.append)
    with pytest.raises(ApiUnavailableError) as err:
        client.get("/503")
    assert len(slept) == 2 and all(5 <= s <= 20 for s in slept), slept
    assert client.waited_seconds == pytest.approx(sum(slept))
    exc = err.value
    assert (exc.status, exc.describe()) == (503, "failed after 3 attempts: HTTP 503")
    assert exc.body["message"].startswith("bad request")


def _no_sleep(seconds: float) -> None:
    raise AssertionError(f"a 4xx is final, yet the client waited {seconds}s to retry it")


def test_a_recursion_error_while_reading_an_answer_names_the_request() -> None:
    text = ("[" * 100_000 + "]" * 100_000).encode()
    deep = Answer(200, {"Content-Type": "application/json"}, text)
    with HostileServer({"GET /v1/nps": lambda r: deep}) as api:
        with pytest.raises(ApiError, match="GET /v1/nps: the answer nests JSON too deeply to read"):
            ApiClient(api.url).get("/v1/nps")
