"""Redirects within the API's origin are followed for a GET; clear text only on loopback."""

import pytest

from sandbox.hostile import Answer, HostileServer, json_answer
from sources.http_kit import ApiClient, ApiError, ConfigError
from sources.http_kit.limits import HttpLimits, check_transport


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


def test_clear_text_is_allowed_to_loopback_only_and_https_anywhere() -> None:
    urls = {
        "http://127.0.0.1:9": True,
        "http://127.8.9.10": True,
        "http://localhost:9": True,
        "http://LOCALHOST": True,
        "http://[::1]:9": True,
        "https://api.example": True,
        "https://10.1.2.3": True,
        # look-alikes of loopback that are other hosts
        "http://localhost.example": False,
        "http://127.0.0.1.nip.io": False,
        "http://0.0.0.0": False,
        "http://[::2]": False,
    }
    allowed = {}
    for url in urls:
        try:
            check_transport(url, HttpLimits(), "sources.acme")
            allowed[url] = True
        except ConfigError:
            allowed[url] = False
    assert allowed == urls


def test_clear_text_elsewhere_needs_the_setting() -> None:
    with pytest.raises(ConfigError, match="sources.acme.http.allow_insecure_http"):
        check_transport("http://10.1.2.3", HttpLimits(), "sources.acme")
    check_transport("http://10.1.2.3", HttpLimits(allow_insecure_http=True), "sources.acme")
    with pytest.raises(ConfigError):
        ApiClient("http://api.example.invalid", section="sources.acme")  # refused before any connection
