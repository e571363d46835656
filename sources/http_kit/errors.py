"""Errors a caller can act on. An `ApiError` is data: it carries the request and the parsed answer, so
nobody re-parses a message to learn the status or the API's reason. Messages are redacted here."""

import json
from typing import Any, Iterator, List, Mapping, Optional

from sources.http_kit.redact import redact


def causes(exc: BaseException, *links: str) -> Iterator[BaseException]:
    """`exc` and every exception behind it, breadth first, each once: `__cause__`, `__context__`, dlt's
    `.exception` (a step failure wraps the real error there), and any other attribute named in `links`."""
    seen = set()
    todo: List[Any] = [exc]
    while todo:
        err = todo.pop(0)
        if err is None or id(err) in seen:
            continue
        seen.add(id(err))
        yield err
        todo.extend([getattr(err, "exception", None), *(getattr(err, link, None) for link in links)])
        todo.extend([err.__cause__, err.__context__])


class SourceError(Exception):
    """An expected failure that a pipeline reports in one line, without a traceback."""


class ConfigError(SourceError):
    """A setting is missing or invalid; nothing was requested or written."""


class AuthError(SourceError):
    """The API refused the credentials."""


class ApiError(SourceError):
    """An answer retrying cannot fix (4xx other than 401/429), or one we cannot use.
    `url` has no query string; `body` is the parsed JSON, else the text."""

    def __init__(
        self,
        message: str,
        status: Optional[int] = None,
        *,
        method: Optional[str] = None,
        url: Optional[str] = None,
        headers: Optional[Mapping[str, str]] = None,
        body: Any = None,
        detail: Optional[str] = None,
    ) -> None:
        super().__init__(redact(message))
        self.status = status
        self.method = method
        self.url = url
        self.headers = dict(headers or {})
        self.body = body
        #: what went wrong without the request's name (`timeout`, `failed after 6 attempts: HTTP 503`)
        self.detail = detail

    @property
    def reason(self) -> Optional[str]:
        """The API's own reason (a JSON body's `message`, `error_description`, `error` or `detail`),
        else the body's first 200 characters; None without a body."""
        body = self.body
        if isinstance(body, Mapping):
            for key in ("message", "error_description", "error", "detail"):
                value = body.get(key)
                if isinstance(value, list) and value:  # validation errors
                    return redact("; ".join(str(v) for v in value))
                if isinstance(value, str) and value:
                    return redact(value)
        elif not isinstance(body, (str, list)) or not body:
            return None
        line = " ".join(redact(body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)).split())
        return line[:200] + ("…" if len(line) > 200 else "")

    def describe(self) -> str:
        """The failure for tables that already name the request: `HTTP 404: Entity not found`."""
        if self.detail:
            return redact(self.detail)
        if self.status is not None:
            reason = self.reason
            return f"HTTP {self.status}: {reason}" if reason else f"HTTP {self.status}"
        return str(self)


class ApiUnavailableError(ApiError):
    """The API kept failing (5xx, resets, timeouts, bad bodies) after every retry, or a request that is
    not idempotent failed without an answer."""
