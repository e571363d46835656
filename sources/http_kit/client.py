"""One HTTP client for every vendor: paces, authenticates, retries, and fails in one clear line."""

import logging
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, NoReturn, Optional, Tuple
from urllib.parse import urlencode, urljoin, urlsplit

import orjson
import requests

from sources.http_kit.auth import TokenAuth
from sources.http_kit.config import HttpLimits, check_positive, check_transport
from sources.http_kit.errors import ApiError, ApiUnavailableError, AuthError
from sources.http_kit.pacing import TRAFFIC, RateLimitPacer, RetryPolicy, Waiter
from sources.http_kit.redact import redact, redact_url

logger = logging.getLogger(__name__)

#: digits as 0, the rest as spaces: 19 zeros in a row mark an integer that may not fit in 64 bits,
#: which orjson would turn into an inexact float (a translation is 10 times quicker than a regex)
_DIGITS = bytes(48 if 48 <= byte <= 57 else 32 for byte in range(256))
_LONG_NUMBER = b"0" * 19
#: redirects followed in a row before giving up on a request
MAX_REDIRECTS = 5
REDIRECTS = (301, 302, 303, 307, 308)
_TRANSIENT_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


class ApiClient:
    """JSON over HTTP for a scheduled sync: pacing from rate-limit headers, waits for 429 resets, capped
    backoff on 5xx, resets, timeouts and invalid JSON, one token renewal on 401, errors as data, and the
    `HttpLimits`. dlt's `RESTClient` pages and retries too, but reads whole bodies, follows redirects to
    any host, retries a POST and decodes with `json`: hooks to change all that would outweigh this loop."""

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
        #: what messages name: never a proxy URL's credentials
        self.shown_url = redact_url(self.base_url)
        check_transport(self.base_url, self.limits, section)  # before any connection
        self.auth = auth
        self.pacer = pacer
        self.retry = retry
        self.timeout = timeout
        self.waiter = Waiter(self.limits, section, sleep, clock)
        self.session = session or requests.Session()
        self.session.headers.setdefault("User-Agent", user_agent)
        self.session.headers["Accept"] = "application/json"
        # `requests` reads proxies and CA bundles from the environment per request (1 CPU-s per 1,800);
        # one origin per client: merged once, as `Session.request` would (none when `trust_env` is off)
        self._send_options = self.session.merge_environment_settings(self.base_url, {}, True, None, None)
        self.requests_sent = 0
        self.retries = 0
        #: the HTTP status of the latest answer (callers that record outcomes want the final one)
        self.last_status: Optional[int] = None

    def get(self, path: str, params: Optional[Mapping[str, Any]] = None) -> Any:
        return self.request("GET", path, params=params)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Optional[Mapping[str, Any]] = None,
        authenticate: bool = True,
        idempotent: bool = True,
        **payload: Any,
    ) -> Any:
        """The decoded JSON body (None for an empty one) of one logical request. `payload` is what `requests`
        sends (`data`, `files`, `json`, `headers`); a request that is not `idempotent` is never sent twice
        once it may have arrived."""
        auth = self.auth if authenticate else None
        call = _Call(method, self.shown_url, path, self.base_url + path, params, idempotent, authenticate, auth)
        while True:
            try:
                response, body = self._send(call, payload)
                self._check_status(call, response, body)
                return self._decode(call, response, body)
            except _Again:
                continue

    def _send(self, call: "_Call", payload: Dict[str, Any]) -> Tuple[requests.Response, bytes]:
        """One attempt on the wire, paced and within the deadline, its body read up to the cap."""
        self.waiter.check_deadline(call.where)
        if self.pacer is not None:
            self.pacer.before_request(lambda seconds, why: self.waiter.wait(call.where, seconds, why))
        self.requests_sent += 1
        TRAFFIC.add(requests=1)
        try:
            request = requests.Request(call.method, call.url, params=_query(call.params), auth=call.auth, **payload)
            response = self.session.send(
                self.session.prepare_request(request), timeout=self.timeout, allow_redirects=False, **self._send_options
            )
            body = self._read_body(call, response)  # inside the try: a connection cut mid-body raises here
        except requests.exceptions.InvalidURL:
            raise ApiError(f"{call.where}: invalid URL", **call.request) from None
        except _TRANSIENT_ERRORS as exc:
            # a connect timeout never reached the server: even an upload may go again
            if not call.idempotent and not isinstance(exc, requests.exceptions.ConnectTimeout):
                raise ApiUnavailableError(
                    f"{call.where} failed ({_reason(exc)}); not retried because it is not idempotent",
                    detail=_reason(exc),
                    **call.request,
                ) from None
            self._backoff(call, _reason(exc), call.request)
        except requests.RequestException as exc:
            raise ApiError(f"{call.where} failed: {_reason(exc)}", **call.request) from None
        if self.pacer is not None:
            self.pacer.observe(response.headers)
        self.last_status = response.status_code
        return response, body

    def _read_body(self, call: "_Call", response: requests.Response) -> bytes:
        """The whole body, read in chunks and given up on past the cap (the rest is never read)."""
        cap = self.limits.max_response_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > cap:
            self._too_large(call, response, int(declared), "declared ")
        chunks: List[bytes] = []
        size = 0
        for chunk in response.iter_content(1 << 16):
            size += len(chunk)
            if size > cap:
                self._too_large(call, response, size, "")
            chunks.append(chunk)
        # requests decodes `.json()` from this cache; it was streamed, so it is not filled yet
        response._content = body = b"".join(chunks)  # noqa: SLF001
        return body

    def _too_large(self, call: "_Call", response: requests.Response, size: int, declared: str) -> NoReturn:
        response.close()
        raise ApiError(
            f"{call.where}: the answer is larger than {self.limits.max_response_mb:g} MB"
            f" ({declared}{size / 1048576:,.1f} MB read); raise {self.waiter.section}.http.max_response_mb"
            " if it is expected",
            detail="answer too large",
            **call.request,
        )

    def _check_status(self, call: "_Call", response: requests.Response, body: bytes) -> None:
        """Raise for an answer that is not a success; `_Again` once a redirect, a renewed token,
        a 429's wait or a 5xx's backoff calls for sending the request again."""
        status = response.status_code
        if status < 300:
            return
        # what an error carries (a 200's body is decoded once, in `_decode`)
        answer = {
            **call.request,
            "headers": response.headers,
            "body": _parsed(response, body) if status >= 400 else None,
        }
        location = response.headers.get("Location")
        if status in REDIRECTS and location:
            self._redirect(call, urljoin(call.url, location), status, answer)
        elif status == 401:
            self._renew(call, response)
        elif status == 429:
            self._rate_limited(call, response, answer)
        elif status >= 500:
            if not call.idempotent:
                raise call.not_repeated(f"HTTP {status}", status, answer)
            self._backoff(call, f"HTTP {status}", answer, status)
        elif status >= 400:
            if not call.authenticate:
                answer["body"] = None  # token endpoints may echo the submitted form
            error = ApiError(f"{call.where}: HTTP {status}", status, **answer)
            error.args = (redact(f"{call.where}: {error.describe()}"),)
            raise error

    def _decode(self, call: "_Call", response: requests.Response, body: bytes) -> Any:
        """The body's JSON (None for an empty body); an invalid body is retried like a 5xx."""
        if not body.strip():
            return None
        if (response.encoding or "").lower() in ("utf-8", "utf8") and _LONG_NUMBER not in body.translate(_DIGITS):
            try:
                return orjson.loads(body)  # the same values as `json`, in about half the CPU
            except orjson.JSONDecodeError:
                pass  # what orjson refuses (NaN, lone surrogates, deep nesting) is read, or refused, as before
        try:
            return response.json()
        except RecursionError:
            raise ApiError(
                f"{call.method} {call.path}: the answer nests JSON too deeply to read (Python's recursion limit);"
                " the API sent a malformed record. Leave this resource out with --resources until it is fixed",
                response.status_code,
                **call.request,
            ) from None
        except ValueError:
            if not call.idempotent:
                raise call.not_repeated("invalid JSON body", response.status_code, call.request) from None
            self._backoff(call, f"invalid JSON body ({len(body)} bytes)", call.request, response.status_code)

    def _backoff(self, call: "_Call", reason: str, answer: Dict[str, Any], status: Optional[int] = None) -> NoReturn:
        """Wait before trying a transient failure again, or give up after the last attempt."""
        call.failures += 1
        if call.failures >= self.retry.max_attempts:
            failed = f"failed after {call.failures} attempts: {reason}"
            raise ApiUnavailableError(f"{call.where} {failed}", status, detail=failed, **answer)
        delay = self.retry.delay(call.failures)
        self.retries += 1
        TRAFFIC.add(retries=1)
        logger.warning(
            "%s: %s; retry %d/%d in %.2fs", call.where, reason, call.failures, self.retry.max_attempts - 1, delay
        )
        self.waiter.wait(call.where, delay, f"backoff after {reason}", logged=True)
        raise _Again

    def _redirect(self, call: "_Call", target: str, status: int, answer: Dict[str, Any]) -> NoReturn:
        """Send the request again to `target`: only a GET, only within the same scheme, host and port."""
        elsewhere = {"detail": f"redirect to {_origin(target)} not followed", **answer}
        if call.method != "GET":
            raise ApiError(
                f"{call.where}: answered with a redirect to {_origin(target)}; a {call.method} is never sent"
                " again elsewhere",
                status,
                **elsewhere,
            )
        if _origin(target) != _origin(call.url):
            raise ApiError(
                f"{call.where}: redirected to another host, {_origin(target)}; not followed", status, **elsewhere
            )
        if call.redirects >= MAX_REDIRECTS:
            raise ApiError(f"{call.where}: more than {MAX_REDIRECTS} redirects", status, **answer)
        call.redirects += 1
        call.url, call.params = target, None  # the target carries its own query
        raise _Again

    def _renew(self, call: "_Call", response: requests.Response) -> NoReturn:
        """A 401: renew the token and try once more, unless the key cannot be renewed."""
        auth = call.auth
        if auth is not None and not auth.renewable:
            raise auth.rejected()
        if auth is None or call.renewed:
            renewed = " after renewing the token" if call.renewed else ""
            raise AuthError(f"{call.where}: the API answered 401 Unauthorized{renewed}")
        logger.warning("%s: 401 Unauthorized, renewing the access token and retrying once", call.where)
        header = response.request.headers.get("Authorization") or ""
        auth.invalidate(header[len("Bearer ") :] if header.startswith("Bearer ") else "")
        call.renewed = True
        raise _Again

    def _rate_limited(self, call: "_Call", response: requests.Response, answer: Dict[str, Any]) -> NoReturn:
        """A 429: wait for the reset the server names (else back off), a bounded number of times."""
        call.rate_waits += 1
        if call.rate_waits > self.retry.max_rate_limit_waits:
            waits = f"still rate limited (429) after {call.rate_waits - 1} waits"
            raise ApiUnavailableError(f"{call.where}: {waits}", 429, detail=waits, **answer)
        wait = self.retry.delay(call.rate_waits)
        if self.pacer is not None:
            wait = self.pacer.wait_after_429(response.headers, wait)
        logger.warning("%s: 429 Too Many Requests, waiting %.2fs for the rate-limit reset", call.where, wait)
        self.waiter.wait(call.where, wait, "429 Too Many Requests", logged=True)
        raise _Again

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


def client_settings(section: str, request_timeout: Any, max_retries: Any, http: HttpLimits) -> Dict[str, Any]:
    """The `retry`, `timeout` and `limits` of a vendor's client from the settings every source has, each
    checked with its key's name before any request."""
    return {
        "retry": RetryPolicy(max_attempts=int(check_positive(max_retries, f"{section}.max_retries", whole=True))),
        "timeout": check_positive(request_timeout, f"{section}.request_timeout"),
        "limits": http.checked(section),
    }


class _Again(Exception):
    """Send the request again: its cause (redirect, renewal, rate limit, backoff) has been handled."""


@dataclass
class _Call:
    """One logical request while it is redirected, re-authenticated and retried."""

    method: str
    #: what messages name of the API (never a proxy URL's credentials)
    host: str
    path: str
    url: str
    params: Optional[Mapping[str, Any]]
    idempotent: bool
    authenticate: bool
    auth: Optional[TokenAuth] = None
    failures: int = 0
    rate_waits: int = 0
    redirects: int = 0
    renewed: bool = False

    @property
    def where(self) -> str:
        return f"{self.method} {self.host}{self.path}"

    @property
    def request(self) -> Dict[str, Any]:
        """The request as an `ApiError` carries it: without its query."""
        return {"method": self.method, "url": self.host + self.path}

    def not_repeated(self, reason: str, status: Optional[int], answer: Dict[str, Any]) -> ApiUnavailableError:
        return ApiUnavailableError(
            f"{self.where}: {reason}; not retried because it is not idempotent", status, detail=reason, **answer
        )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


def _query(params: Optional[Mapping[str, Any]]) -> Optional[str]:
    """The query string `requests` would build from `params` (None values left out, a list repeated):
    given as text, it skips requests' per-request protocol checks (about 30 µs a request)."""
    if params is None:
        return None
    pairs: List[Tuple[str, Any]] = []
    for key, values in params.items():
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            values = [values]
        pairs += [(key, value) for value in values if value is not None]
    return urlencode(pairs, doseq=True)


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
