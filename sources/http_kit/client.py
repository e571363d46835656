"""One HTTP client for every vendor: paces, authenticates, retries, and fails in one clear line."""

import logging
import time
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Tuple
from urllib.parse import urlsplit

import requests
from dlt.sources.helpers.rest_client.paginators import BasePaginator

from sources.http_kit.auth import TokenAuth
from sources.http_kit.errors import ApiError, ApiUnavailableError, AuthError
from sources.http_kit.limits import HttpLimits, check_transport
from sources.http_kit.pacing import RateLimitPacer
from sources.http_kit.redact import redact
from sources.http_kit.retry import RetryPolicy
from sources.http_kit.traffic import TRAFFIC
from sources.http_kit.transport import MAX_REDIRECTS, BodyTooLarge, origin, read_body, redirect_target
from sources.http_kit.waits import Waiter

logger = logging.getLogger(__name__)

_TRANSIENT_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


class ApiClient:
    """JSON over HTTP with the policies a scheduled sync needs.

    - pacing from the server's rate-limit headers, and on 429 a wait until the reset it names;
    - retries with capped backoff on 5xx, resets, timeouts and truncated or invalid JSON;
    - on 401 one renewal of the token and one retry (auth is a `requests.AuthBase`);
    - errors that carry the request (method, URL without query) and the parsed answer;
    - the `HttpLimits`: no clear text to other hosts, redirects only within the API's origin and never
      for a POST, bodies up to a size, every wait capped, logged and bounded by the run's deadline.

    `sleep` and `clock` are injectable so tests never wait in real time.
    """

    def __init__(
        self,
        base_url: str,
        *,
        auth: Optional[TokenAuth] = None,
        pacer: Optional[RateLimitPacer] = None,
        retry: RetryPolicy = RetryPolicy(),
        timeout: Tuple[float, float] = (10.0, 60.0),
        session: Optional[requests.Session] = None,
        user_agent: str = "feedback-connectors",
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        limits: Optional[HttpLimits] = None,
        section: str = "sources",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.limits = limits or HttpLimits()
        check_transport(self.base_url, self.limits, section)  # before any connection
        self.auth = auth
        self.pacer = pacer
        self.retry = retry
        self.timeout = timeout
        self.waiter = Waiter(self.limits, section, sleep, clock)
        self.session = session or requests.Session()
        self.session.headers.setdefault("User-Agent", user_agent)
        self.session.headers["Accept"] = "application/json"
        self.requests_sent = 0
        self.retries = 0
        #: the HTTP status of the latest answer (callers that record outcomes want the final one)
        self.last_status: Optional[int] = None

    def get(self, path: str, params: Optional[Mapping[str, Any]] = None) -> Any:
        return self.request("GET", path, params=params)

    def request(self, method: str, path: str, **options: Any) -> Any:
        """Send one logical request and return its decoded JSON body (None for an empty body);
        `options` as `exchange` takes them."""
        return self.exchange(method, path, **options)[0]

    def exchange(
        self,
        method: str,
        path: str,
        *,
        params: Optional[Mapping[str, Any]] = None,
        data: Any = None,
        files: Any = None,
        json: Any = None,
        headers: Optional[Dict[str, str]] = None,
        authenticate: bool = True,
        idempotent: bool = True,
    ) -> Tuple[Any, requests.Response]:
        """The decoded body and the final response of one logical request (retries, renewal, pacing)."""
        url = self.base_url + path
        where = f"{method} {_host(self.base_url)}{path}"
        request = {"method": method, "url": _host(self.base_url) + path}
        auth = self.auth if authenticate else None
        attempt, rate_waits, redirects, renewed = 0, 0, 0, False
        while True:
            attempt += 1
            self.waiter.check_deadline(where)
            if self.pacer is not None:
                self.pacer.before_request(lambda seconds, why: self.waiter.wait(where, seconds, why))
            try:
                self.requests_sent += 1
                TRAFFIC.add(requests=1)
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    data=data,
                    files=files,
                    json=json,
                    headers=headers,
                    auth=auth,
                    timeout=self.timeout,
                    allow_redirects=False,
                    stream=True,
                )
                # read the body inside the try: a connection cut mid-body raises here
                body = read_body(response, self.limits.max_response_bytes)
            except BodyTooLarge as exc:
                raise ApiError(
                    f"{where}: the answer is larger than {self.limits.max_response_mb:g} MB"
                    f" ({'declared ' if exc.declared else ''}{exc.size / 1048576:,.1f} MB read);"
                    f" raise {self.waiter.section}.http.max_response_mb if it is expected",
                    detail="answer too large",
                    **request,
                ) from None
            except requests.exceptions.InvalidURL:
                raise ApiError(f"{where}: invalid URL", **request) from None
            except _TRANSIENT_ERRORS as exc:
                if not idempotent and not isinstance(exc, requests.exceptions.ConnectTimeout):
                    raise ApiUnavailableError(
                        f"{where} failed ({_reason(exc)}); not retried because it is not idempotent",
                        detail=_reason(exc),
                        **request,
                    ) from None
                self._backoff(where, attempt, _reason(exc), request)
                continue
            except requests.RequestException as exc:
                raise ApiError(f"{where} failed: {_reason(exc)}", **request) from None
            if self.pacer is not None:
                self.pacer.observe(response.headers)
            status = self.last_status = response.status_code
            # what an error carries; decoded only for an error (a 200's body is decoded once, below)
            answer = {**request, "headers": response.headers, "body": None}
            if status >= 400:
                answer["body"] = _parsed(response, body)

            target = redirect_target(response, url)
            if target is not None:
                url, params = self._redirect(where, method, url, target, redirects, status, answer), None
                redirects += 1
                attempt -= 1
                continue
            if status == 401 and auth is not None and not auth.renewable:
                raise auth.rejected()
            if status == 401 and auth is not None and not renewed:
                logger.warning("%s: 401 Unauthorized, renewing the access token and retrying once", where)
                auth.invalidate(_bearer(response.request.headers.get("Authorization")))
                renewed = True
                attempt -= 1
                continue
            if status == 401:
                raise AuthError(
                    f"{where}: the API answered 401 Unauthorized{' after renewing the token' if renewed else ''}"
                )
            if status == 429:
                rate_waits += 1
                if rate_waits > self.retry.max_rate_limit_waits:
                    raise ApiUnavailableError(
                        f"{where}: still rate limited (429) after {rate_waits - 1} waits",
                        status,
                        detail=f"still rate limited (429) after {rate_waits - 1} waits",
                        **answer,
                    )
                wait = (
                    self.pacer.wait_after_429(response.headers, self.retry.delay(rate_waits))
                    if self.pacer is not None
                    else self.retry.delay(rate_waits)
                )
                logger.warning("%s: 429 Too Many Requests, waiting %.2fs for the rate-limit reset", where, wait)
                self.waiter.wait(where, wait, "429 Too Many Requests", logged=True)
                attempt -= 1
                continue
            if status >= 500:
                if not idempotent:
                    raise ApiUnavailableError(
                        f"{where}: HTTP {status}; not retried because it is not idempotent",
                        status,
                        detail=f"HTTP {status}",
                        **answer,
                    )
                self._backoff(where, attempt, f"HTTP {status}", answer, status)
                continue
            if status >= 400:
                if not authenticate:
                    answer["body"] = None  # token endpoints may echo the submitted form
                error = ApiError(f"{where}: HTTP {status}", status, **answer)
                error.args = (redact(f"{where}: {error.describe()}"),)
                raise error
            if not body.strip():
                return None, response
            try:
                return response.json(), response
            except RecursionError:
                raise ApiError(
                    f"{method} {path}: the answer nests JSON too deeply to read (Python's recursion limit);"
                    " the API sent a malformed record. Leave this resource out with --resources until it is fixed",
                    status,
                    **request,
                ) from None
            except ValueError:
                if not idempotent:
                    raise ApiUnavailableError(
                        f"{where}: invalid JSON body; not retried because it is not idempotent",
                        status,
                        detail="invalid JSON body",
                        **request,
                    ) from None
                self._backoff(where, attempt, f"invalid JSON body ({len(body)} bytes)", request, status)

    def paginate(
        self,
        path: str,
        paginator: BasePaginator,
        params: Optional[Mapping[str, Any]] = None,
        select: Callable[[Any], List[Any]] = lambda body: body,
    ) -> Iterator[List[Any]]:
        """Pages of a list, as a dlt paginator (`BasePaginator`) moves through them by query parameters.

        `select` takes the records out of a page's body; the paginator sees the response (whose `json()`
        is the body already decoded) and those records.
        """
        request = requests.Request("GET", self.base_url + path, params=dict(params or {}))
        paginator.init_request(request)
        while True:
            body, response = self.exchange("GET", path, params=request.params)
            items = select(body)
            paginator.update_state(_Decoded(response, body), items)
            if items:
                yield items
            if not paginator.has_next_page:
                return
            paginator.update_request(request)

    def _backoff(
        self, where: str, attempt: int, reason: str, answer: Dict[str, Any], status: Optional[int] = None
    ) -> None:
        if attempt >= self.retry.max_attempts:
            raise ApiUnavailableError(
                f"{where} failed after {attempt} attempts: {reason}",
                status,
                detail=f"failed after {attempt} attempts: {reason}",
                **answer,
            )
        delay = self.retry.delay(attempt)
        self.retries += 1
        TRAFFIC.add(retries=1)
        logger.warning("%s: %s; retry %d/%d in %.2fs", where, reason, attempt, self.retry.max_attempts - 1, delay)
        self.waiter.wait(where, delay, f"backoff after {reason}", logged=True)

    def _redirect(
        self, where: str, method: str, url: str, target: str, followed: int, status: int, answer: Dict[str, Any]
    ) -> str:
        """Where to send the request again: only a GET, only within the same scheme, host and port."""
        if method != "GET":
            raise ApiError(
                f"{where}: answered with a redirect to {origin(target)}; a {method} is never sent again elsewhere",
                status,
                detail=f"redirect to {origin(target)} not followed",
                **answer,
            )
        if origin(target) != origin(url):
            raise ApiError(
                f"{where}: redirected to another host, {origin(target)}; not followed",
                status,
                detail=f"redirect to {origin(target)} not followed",
                **answer,
            )
        if followed >= MAX_REDIRECTS:
            raise ApiError(f"{where}: more than {MAX_REDIRECTS} redirects", status, **answer)
        return target

    @property
    def waited_seconds(self) -> float:
        """Seconds slept for rate limits and backoff."""
        return self.waiter.waited_seconds

    @property
    def sleep(self) -> Callable[[float], None]:
        return self.waiter.sleep

    @sleep.setter
    def sleep(self, value: Callable[[float], None]) -> None:
        self.waiter.sleep = value

    def close(self) -> None:
        self.session.close()


class _Decoded:
    """A response whose `json()` returns the body decoded once already (paginators read it again)."""

    def __init__(self, response: requests.Response, body: Any) -> None:
        self._response, self._body = response, body

    def json(self, **_: Any) -> Any:
        return self._body

    def __getattr__(self, name: str) -> Any:
        return getattr(self._response, name)


def _host(base_url: str) -> str:
    """Scheme, host, port and path: never the `user:password@` a proxy URL may carry."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path.rstrip('/')}"


def _bearer(header: Optional[str]) -> str:
    return header[len("Bearer ") :] if header and header.startswith("Bearer ") else ""


def _parsed(response: requests.Response, body: bytes) -> Any:
    """The answer's JSON, else its text: what `ApiError.body` carries."""
    if not body.strip():
        return None
    try:
        return response.json()
    except (ValueError, RecursionError):
        return body.decode("utf-8", "replace")


def _reason(exc: Exception) -> str:
    """Name of the failure without its text: requests' messages repeat the full URL and query."""
    if isinstance(exc, requests.Timeout):
        return "timeout"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "connection cut mid-body"
    if isinstance(exc, requests.ConnectionError):
        return "connection failed or reset"
    return type(exc).__name__
