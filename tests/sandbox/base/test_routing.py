"""The routing table: first match wins, parameters bind one non-empty segment and are unquoted."""

from __future__ import annotations

from sandbox.base.routing import Route, Router


def _handler(name: str) -> object:
    return lambda req: (200, name)


ROUTER = Router(
    [
        Route("GET", "/v1/users/phone/{phone}", _handler("phone")),  # type: ignore[arg-type]
        Route("GET", "/v1/users/{user}/{sub}", _handler("sub")),  # type: ignore[arg-type]
        Route("GET", "/v1/users/{user}", _handler("user")),  # type: ignore[arg-type]
        Route("POST", "/v1/users", _handler("create"), auth=False),  # type: ignore[arg-type]
    ]
)


def test_literal_route_listed_first_wins_over_a_parameter() -> None:
    hit = ROUTER.match("GET", "/v1/users/phone/%2B15550100")
    assert hit is not None
    route, params = hit
    assert route.template == "/v1/users/phone/{phone}" and params == {"phone": "+15550100"}
    hit = ROUTER.match("GET", "/v1/users/7/settings")
    assert hit is not None and hit[1] == {"user": "7", "sub": "settings"}


def test_method_and_segment_count_must_match() -> None:
    assert ROUTER.match("DELETE", "/v1/users/7") is None
    assert ROUTER.match("GET", "/v1/users") is None  # only POST is declared there
    assert ROUTER.match("GET", "/v1/users/7/a/b") is None
    hit = ROUTER.match("POST", "/v1/users")
    assert hit is not None and hit[0].auth is False and hit[1] == {}


def test_a_parameter_never_binds_an_empty_segment() -> None:
    assert ROUTER.match("GET", "/v1/users//settings") is None
    assert ROUTER.match("GET", "/v2/users/7") is None
