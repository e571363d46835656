"""The shared HTTP client's policies against the sandbox over loopback: pacing, 429, retries, failures."""

import logging
import socket
import time
from typing import Any, List

import pytest
import requests

from sandbox.hostile import Answer, HostileServer, json_answer
from sandbox.wootric import generate_account
from sources.http_kit import ApiClient, ApiError, ApiUnavailableError, RateLimitPacer, RetryPolicy, StaticBearerAuth

FAST = RetryPolicy(max_attempts=3, backoff_base=0.05, backoff_max=0.2)


@pytest.fixture
def server(start_sandbox):
    return start_sandbox(
        generate_account(seed=2, end_users=10, responses=30, declines=5), rate_limit=5, rate_window=1.0
    )


def client_for(server, **kwargs) -> ApiClient:
    return ApiClient(
        server.url, auth=StaticBearerAuth(server.issue_token()), pacer=RateLimitPacer(), retry=FAST, **kwargs
    )


def test_pacing_spends_the_budget_without_429(server) -> None:
    client = client_for(server)
    started = time.monotonic()
    for _ in range(12):
        client.get("/v1/declines")
    elapsed = time.monotonic() - started
    stats = server.stats()
    assert stats["rate_limited"] == 0
    assert elapsed >= 1.0, "12 requests at 5 per 1 s window cannot finish inside one window"


def test_429_waits_for_the_announced_reset(server, caplog) -> None:
    server.inject("429", path_prefix="/v1/declines", times=2)
    with caplog.at_level(logging.WARNING):
        assert isinstance(client_for(server).get("/v1/declines"), list)
    assert server.stats()["rate_limited"] == 2
    assert caplog.text.count("429 Too Many Requests, waiting") == 2


@pytest.mark.parametrize(
    "fault, reason", [("500", "HTTP 500"), ("truncated", "invalid JSON body"), ("reset", "connection")]
)
def test_transient_faults_are_retried_and_logged(server, caplog, fault: str, reason: str) -> None:
    server.inject(fault, path_prefix="/v1/declines")
    with caplog.at_level(logging.WARNING):
        assert isinstance(client_for(server).get("/v1/declines"), list)
    assert reason in caplog.text and "retry 1/2" in caplog.text


def test_persistent_failure_ends_in_one_line(server) -> None:
    server.inject("503", path_prefix="/v1/declines", times=10)
    with pytest.raises(ApiUnavailableError) as err:
        client_for(server).get("/v1/declines", params={"secret_param": "do-not-echo"})
    assert str(err.value) == f"GET {server.url}/v1/declines failed after 3 attempts: HTTP 503"


def test_api_down_names_the_host_only(server) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = ApiClient(f"http://127.0.0.1:{port}", retry=FAST)
    with pytest.raises(
        ApiUnavailableError, match=r"^GET http://127.0.0.1:\d+/v1/x failed after 3 attempts: connection failed"
    ):
        client.get("/v1/x", params={"token": "do-not-echo"})


def test_client_errors_are_not_retried(server) -> None:
    client = client_for(server)
    with pytest.raises(ApiError) as err:
        client.get("/v1/responses", params={"page": 31})
    assert err.value.status == 400
    assert server.stats()["requests"] == 1


def test_non_idempotent_requests_are_not_repeated_after_a_server_error(server) -> None:
    server.inject("500", path_prefix="/v1/end_users")
    with pytest.raises(ApiUnavailableError, match="not idempotent"):
        client_for(server).request("POST", "/v1/end_users", data={"email": "x@example.com"}, idempotent=False)
    assert server.stats()["requests"] == 1


def test_proxy_credentials_in_the_base_url_never_reach_messages(server, caplog) -> None:
    port = server.url.rsplit(":", 1)[1]
    server.inject("503", path_prefix="/v1/declines", times=10)
    client = ApiClient(f"http://user:pr0xy-pw@127.0.0.1:{port}", retry=FAST)
    with caplog.at_level(logging.WARNING), pytest.raises(ApiUnavailableError) as err:
        client.get("/v1/declines")
    assert "pr0xy-pw" not in str(err.value) + caplog.text
    assert str(err.value).startswith(f"GET http://127.0.0.1:{port}/v1/declines")


def test_a_client_clock_ahead_of_the_server_still_finishes_without_a_429_storm(server) -> None:
    pacer = RateLimitPacer(clock=lambda: time.time() + 5)
    client = ApiClient(server.url, auth=StaticBearerAuth(server.issue_token()), pacer=pacer, retry=FAST)
    for _ in range(15):
        client.get("/v1/declines")
    assert server.stats()["rate_limited"] == 0, "the Date header corrects our clock"


def test_proxies_come_from_the_environment_unless_the_session_does_not_trust_it(monkeypatch) -> None:
    """The environment's settings are merged once per client, as `requests` would per request."""
    for name in ("http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    with (
        HostileServer({"GET /x": lambda r: json_answer(200, {"via": "api"})}) as api,
        HostileServer({"GET /x": lambda r: json_answer(200, {"via": "proxy"})}) as proxy,
    ):
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        assert ApiClient(api.url).get("/x") == {"via": "proxy"}
        untrusting = requests.Session()
        untrusting.trust_env = False
        assert ApiClient(api.url, session=untrusting).get("/x") == {"via": "api"}
        assert [len(api.requests), len(proxy.requests)] == [1, 1]


@pytest.mark.parametrize(
    "text, content_type",
    [
        ('{"id": 18446744073709551616, "low": -9223372036854775809, "x": 0.1}', "application/json"),
        ('[1E400, "\\ud800", {"a": 1, "a": 2}]', "application/json"),
        ('{"name": "caf\u00e9 \U0001f600"}', "application/json; charset=UTF-8"),
        ('{"name": "caf\u00e9"}', "text/plain"),  # requests reads text/* as Latin-1
    ],
)
def test_answers_decode_to_exactly_what_json_reads(text: str, content_type: str) -> None:
    body = text.encode()
    answer = Answer(200, {"Content-Type": content_type}, body)
    with HostileServer({"GET /x": lambda r: answer}) as api:
        got = ApiClient(api.url).get("/x")
        expected = requests.get(api.url + "/x").json()
    assert repr(got) == repr(expected)


def test_the_query_is_the_one_requests_builds() -> None:
    sent: List[str] = []

    class Recording(requests.Session):
        def send(self, request: requests.PreparedRequest, **options: Any) -> requests.Response:
            sent.append(request.url or "")
            return super().send(request, **options)

    params = {"page": 2, "skip": None, "sort": "created_at[gte]", "ids": [1, 2], "on": True, "q": "café €", "f": 0.5}
    with HostileServer({"GET /x": lambda r: json_answer(200, {})}) as api:
        client = ApiClient(api.url, session=Recording())
        client.get("/x", params)
        client.get("/x", {})
        client.get("/x")
    expected = [requests.Request("GET", f"{api.url}/x", params=p).prepare().url for p in (params, {}, None)]
    assert sent == expected


def test_a_get_redirect_within_the_origin_is_followed_with_its_query() -> None:
    routes = {
        "GET /old": lambda r: Answer(301, {"Location": "/new?page=2"}),
        "GET /new": lambda r: json_answer(200, {"page": r.query.get("page")}),
    }
    with HostileServer(routes) as api:
        assert ApiClient(api.url).get("/old", {"page": 1}) == {"page": "2"}
        assert [r.path for r in api.requests] == ["/old", "/new"]


def test_endless_redirects_end() -> None:
    with HostileServer({"GET /loop": lambda r: Answer(302, {"Location": "/loop"})}) as api:
        with pytest.raises(ApiError, match="more than 5 redirects"):
            ApiClient(api.url).get("/loop")
        assert len(api.requests) == 6
