"""A small routing table: ``METHOD /path/{param}`` templates matched segment by segment.

Both sandboxes (and their admin endpoints) declare their endpoints as data, so the request
pipeline never has to know a vendor's URL layout.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote


@dataclass(frozen=True)
class Route:
    """One endpoint: ``template`` segments in braces are parameters; ``auth`` says whether it needs credentials."""

    method: str
    template: str
    handler: Callable[..., tuple[int, Any]]
    auth: bool = True

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.template.strip("/").split("/"))


class Router:
    """First match wins, so a literal route listed before a ``{param}`` route takes precedence."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self.routes = list(routes)
        self._segments = [route.segments for route in self.routes]

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route and its unquoted parameters, or None (unknown path, or known path with another method)."""
        parts = path.strip("/").split("/")
        for route, segments in zip(self.routes, self._segments, strict=True):
            if route.method != method or len(segments) != len(parts):
                continue
            params = _bind(segments, parts)
            if params is not None:
                return route, params
        return None


def _bind(segments: tuple[str, ...], parts: list[str]) -> dict[str, str] | None:
    params: dict[str, str] = {}
    for segment, part in zip(segments, parts, strict=True):
        if segment.startswith("{") and segment.endswith("}"):
            if not part:
                return None
            params[segment[1:-1]] = unquote(part)
        elif segment != part:
            return None
    return params
