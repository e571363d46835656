"""Loopback HTTP server that mimics the Wootric API on top of an ``Account``.

It reproduces what a connector must cope with (OAuth grants, token expiry, 30-page cap,
per-account rate limits, transient faults) and exposes unauthenticated ``/_sandbox/*``
admin endpoints so benchmarks running the pipeline in a subprocess can read ground truth,
counters and inject faults.
"""

from __future__ import annotations

import email.policy
import json
import math
import secrets
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from sandbox.wootric.data import KINDS, Account, Bounds, Kind

FAULT_KINDS = frozenset({"500", "502", "503", "429", "401", "truncated", "reset", "slow"})
_REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
_FILTER_OPS = ("gt", "gte", "lt", "lte", "eq")


class _BadRequest(Exception):
    """Invalid parameters; rendered as the API's 400 ``{"errors": [...]}`` body."""


@dataclass
class _Fault:
    kind: str
    path_prefix: str
    remaining: int
    seconds: float | None = None


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def _dumps(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=_json_default).encode("utf-8")


def _parse_multipart(body: bytes, content_type: str) -> dict[str, str]:
    """Form fields of a multipart/form-data body (what ``curl -F`` sends)."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    msg = BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    out: dict[str, str] = {}
    if msg.is_multipart():
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if name:
                payload = part.get_payload(decode=True) or b""
                out[str(name)] = payload.decode("utf-8", "replace")
    return out


def _int_param(params: dict[str, str], name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise _BadRequest(f"{name} must be an integer") from None


def _bounds(params: dict[str, str], field: str) -> Bounds:
    """Fold ``field[gt|gte|lt|lte|eq]`` UNIX timestamps (floats floored) into inclusive bounds."""
    lo: int | None = None
    hi: int | None = None
    for op in _FILTER_OPS:
        raw = params.get(f"{field}[{op}]")
        if raw is None or raw == "":
            continue
        try:
            value = math.floor(float(raw))
        except (ValueError, OverflowError):
            raise _BadRequest(f"{field}[{op}] must be a UNIX timestamp") from None
        low = {"gt": value + 1, "gte": value, "eq": value}.get(op)
        high = {"lt": value - 1, "lte": value, "eq": value}.get(op)
        if low is not None:
            lo = low if lo is None else max(lo, low)
        if high is not None:
            hi = high if hi is None else min(hi, high)
    return lo, hi


def _date_param(params: dict[str, str], name: str) -> date | None:
    raw = (params.get(name) or "").strip().strip("'\"")
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise _BadRequest(f"{name} must be YYYY-MM-DD") from None


def _truthy(raw: str | None) -> bool:
    return (raw or "").strip().lower() in {"1", "true", "t", "yes", "y"}


class SandboxServer:
    """Threaded Wootric look-alike; ``start()`` binds 127.0.0.1 on a random port by default."""

    def __init__(
        self,
        account: Account,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        page_cap: int = 30,
        max_per_page: int = 50,
        default_per_page: int = 25,
        rate_limit: int | None = None,
        rate_window: float = 60.0,
        token_ttl: float = 7200,
        client_id: str = "sandbox-client",
        client_secret: str = "sandbox-secret",
        username: str = "analyst@example.com",
        password: str = "sandbox-password",
        account_token: str = "NPS-sandbox",
        slow_seconds: float = 5.0,
        verbose: bool = False,
    ) -> None:
        self.account = account
        self.host, self.port = host, port
        self.page_cap, self.max_per_page, self.default_per_page = page_cap, max_per_page, default_per_page
        self.rate_limit, self.rate_window = rate_limit, rate_window
        self.token_ttl = token_ttl
        self.client_id, self.client_secret = client_id, client_secret
        self.username, self.password, self.account_token = username, password, account_token
        self.slow_seconds = slow_seconds
        self.verbose = verbose
        self._lock = threading.Lock()
        self._tokens: dict[str, float] = {}  # access token -> expiry (epoch seconds)
        self._refresh_tokens: set[str] = set()
        self._faults: list[_Fault] = []
        self._window = -1
        self._window_count = 0
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.reset_stats()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> str:
        """Bind and serve in a daemon thread; returns the base URL."""
        if self._httpd is not None:
            return self.url
        handler = type("BoundHandler", (_Handler,), {"sandbox": self})
        httpd = _QuietHTTPServer((self.host, self.port), handler)
        httpd.verbose = self.verbose
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self._thread = threading.Thread(target=httpd.serve_forever, name="wootric-sandbox", daemon=True)
        self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> SandboxServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # ------------------------------------------------------------------ faults, tokens, stats
    def inject(self, kind: str, path_prefix: str = "/v1/", times: int = 1, *, seconds: float | None = None) -> None:
        """Queue a fault for the next ``times`` requests whose path starts with ``path_prefix``."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(FAULT_KINDS)}")
        if times < 1:
            raise ValueError("times must be >= 1")
        with self._lock:
            self._faults.append(_Fault(kind, path_prefix, times, seconds))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if path.startswith(fault.path_prefix):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    self._faults_seen[fault.kind] += 1
                    return fault
        return None

    def expire_tokens(self) -> None:
        """Invalidate every access token (refresh tokens stay valid), like a 2 h expiry."""
        with self._lock:
            self._tokens.clear()

    def issue_token(self) -> str:
        """A valid access token without an HTTP round trip (test convenience)."""
        return self._new_access_token()

    def _new_access_token(self) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = time.time() + self.token_ttl
        return token

    def _token_valid(self, token: str | None) -> bool:
        if not token:
            return False
        with self._lock:
            expiry = self._tokens.get(token)
            if expiry is None:
                return False
            if time.time() >= expiry:
                del self._tokens[token]
                return False
            return True

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self._requests,
                "token_requests": self._token_requests,
                "by_path": dict(self._by_path),
                "status_counts": dict(self._status_counts),
                "rate_limited": self._rate_limited,
                "faults": dict(self._faults_seen),
            }

    def reset_stats(self) -> None:
        with self._lock:
            self._requests = 0
            self._token_requests = 0
            self._by_path: Counter[str] = Counter()
            self._status_counts: Counter[int] = Counter()
            self._rate_limited = 0
            self._faults_seen: Counter[str] = Counter()

    def _count_request(self, path: str, is_token: bool) -> None:
        with self._lock:
            if is_token:
                self._token_requests += 1
            else:
                self._requests += 1
                self._by_path[path] += 1

    def _count_status(self, status: int) -> None:
        with self._lock:
            self._status_counts[status] += 1
            if status == 429:
                self._rate_limited += 1

    # ------------------------------------------------------------------ rate limiting
    def _consume_rate(self) -> tuple[bool, dict[str, str]]:
        """Fixed epoch-aligned windows of ``rate_window`` seconds; returns (allowed, headers)."""
        if self.rate_limit is None:
            return True, {}
        with self._lock:
            now = time.time()
            window = math.floor(now / self.rate_window)
            if window != self._window:
                self._window, self._window_count = window, 0
            allowed = self._window_count < self.rate_limit
            if allowed:
                self._window_count += 1
            remaining = self.rate_limit - self._window_count
            reset = math.ceil((window + 1) * self.rate_window)
        return allowed, self._rate_headers(self.rate_limit, remaining, reset)

    @staticmethod
    def _rate_headers(limit: int, remaining: int, reset: int) -> dict[str, str]:
        return {
            "X-Rate-Limit-Limit": str(limit),
            "X-Rate-Limit-Remaining": str(max(remaining, 0)),
            "X-Rate-Limit-Reset": str(reset),
        }

    # ------------------------------------------------------------------ OAuth
    def _oauth(self, params: dict[str, str], query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        grant = params.get("grant_type", "")
        refresh: str | None = None
        if grant == "client_credentials":
            if params.get("client_id") != self.client_id or params.get("client_secret") != self.client_secret:
                return 401, {"error": "invalid_grant", "error_description": "Invalid client credentials."}
        elif grant == "password":
            token = query.get("account_token") or params.get("account_token")
            if params.get("username") != self.username or params.get("password") != self.password:
                return 401, {"error": "invalid_grant", "error_description": "Invalid username or password."}
            if token and token != self.account_token:
                return 401, {"error": "invalid_grant", "error_description": "Unknown account token."}
            refresh = secrets.token_urlsafe(32)
        elif grant == "refresh_token":
            old = params.get("refresh_token", "")
            with self._lock:
                known = old in self._refresh_tokens
                self._refresh_tokens.discard(old)
            if not known:
                return 401, {"error": "invalid_grant", "error_description": "The refresh token is invalid."}
            refresh = secrets.token_urlsafe(32)
        else:
            return 400, {"error": "unsupported_grant_type", "error_description": f"Unsupported grant type {grant!r}."}
        body: dict[str, Any] = {
            "access_token": self._new_access_token(),
            "token_type": "bearer",
            "expires_in": int(self.token_ttl),
        }
        if refresh is not None:
            with self._lock:
                self._refresh_tokens.add(refresh)
            body["refresh_token"] = refresh
        body["scope"] = "public"
        body["created_at"] = int(time.time())
        return 200, body

    # ------------------------------------------------------------------ API routes
    def _page(self, params: dict[str, str]) -> tuple[int, int]:
        page = _int_param(params, "page", 1)
        per_page = _int_param(params, "per_page", self.default_per_page)
        if page < 1:
            raise _BadRequest("page must be greater than 0")
        if page > self.page_cap:
            raise _BadRequest(f"page can't be greater than {self.page_cap}")
        if per_page < 1:
            raise _BadRequest("per_page must be greater than 0")
        per_page = min(per_page, self.max_per_page)
        return (page - 1) * per_page, per_page

    @staticmethod
    def _descending(params: dict[str, str], default: str) -> bool:
        order = (params.get("sort_order") or default).strip().lower()
        if order not in ("asc", "desc"):
            raise _BadRequest("sort_order must be asc or desc")
        return order == "desc"

    def _list(
        self,
        kind: Kind,
        params: dict[str, str],
        *,
        end_user_id: int | None = None,
        scores: tuple[int, ...] | None = None,
    ) -> list[dict[str, Any]]:
        offset, limit = self._page(params)
        created = _bounds(params, "created")
        acct = self.account
        if kind == "end_users":
            sort_key = (params.get("sort_key") or "email").strip()
            if sort_key not in ("email", "created_at", "updated_at"):
                raise _BadRequest("sort_key must be one of email, created_at, updated_at")
            kwargs: dict[str, Any] = {
                "updated": _bounds(params, "updated"),
                "email": params.get("email") or None,
                "sort_key": sort_key,
                "descending": self._descending(params, "asc"),
            }
        else:
            kwargs = {
                "sort_key": "created_at",
                "descending": self._descending(params, "desc"),
                "include_excluded": kind != "responses" or _truthy(params.get("excluded_from_calculations")),
                "end_user_id": end_user_id,
                "scores": scores,
            }
        with acct.lock:
            rows = acct.query(kind, created=created, offset=offset, limit=limit, **kwargs)
            return [acct.render(kind, r) for r in rows]

    def _route(self, path: str, params: dict[str, str]) -> tuple[int, Any]:
        parts = [unquote(p) for p in path.strip("/").split("/")]
        acct = self.account
        not_found = (404, {"error": "Not Found"})
        if parts[0] == "v2":
            if parts[1:] == ["email_stats"]:
                start = _date_param(params, "date_range[start_date]")
                end = _date_param(params, "date_range[end_date]")
                return 200, acct.email_stats(start, end)
            if parts[1:] == ["email_stats", "sources"]:
                return 200, acct.email_sources
            return not_found
        if parts[0] != "v1" or len(parts) < 2:
            return not_found
        resource, rest = parts[1], parts[2:]
        if resource in ("responses", "declines") and not rest:
            return 200, self._list(resource, params)  # type: ignore[arg-type]
        if resource == "nps_summary" and not rest:
            today = datetime.now(UTC).date()
            start = _date_param(params, "date[start]")
            end = _date_param(params, "date[end]") or today
            return 200, acct.nps_summary(start or end - timedelta(days=30), end)
        if resource == "segments" and not rest:
            return 200, acct.render_segments()
        if resource == "survey_templates" and not rest:
            return 200, acct.survey_templates
        if resource != "end_users":
            return not_found
        if not rest:
            return 200, self._list("end_users", params)
        with acct.lock:
            if rest[0] == "phone_number" and len(rest) == 2:
                user = acct.find_end_user(phone=rest[1]) if rest[1].startswith("+") else self._user_by_id(rest[1])
                return (200, acct.render("end_users", user)) if user else not_found
            if _truthy(params.get("lookup_by_email")):
                user = acct.find_end_user(email=rest[0])
            elif _truthy(params.get("lookup_by_external_id")):
                user = acct.find_end_user(external_id=rest[0])
            else:
                user = self._user_by_id(rest[0])
            if user is None:
                return not_found
            if len(rest) == 1:
                return 200, acct.render("end_users", user)
            sub, tail = rest[1], rest[2:]
            if sub == "settings" and not tail:
                return 200, acct.render_settings(user)
            if sub not in ("responses", "declines"):
                return not_found
            kind: Kind = "responses" if sub == "responses" else "declines"
            if not tail:
                return 200, self._list(kind, params, end_user_id=user["id"])
            groups = {"promoters": (9, 10), "passives": (7, 8), "detractors": tuple(range(7))}
            if kind == "responses" and len(tail) == 1 and tail[0] in groups:
                return 200, self._list(kind, params, end_user_id=user["id"], scores=groups[tail[0]])
            if len(tail) == 1 and tail[0].isdigit():
                rec = acct.get(kind, int(tail[0]))
                if rec is not None and rec["end_user_id"] == user["id"]:
                    return 200, acct.render(kind, rec)
            return not_found

    def _user_by_id(self, raw: str) -> dict[str, Any] | None:
        return self.account.get("end_users", int(raw)) if raw.isdigit() else None

    # ------------------------------------------------------------------ admin
    def _admin(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        parts = path.strip("/").split("/")[1:]
        try:
            data = json.loads(body) if body.strip() else {}
        except ValueError:
            return 400, {"error": "body must be JSON"}
        if method == "GET" and parts == ["stats"]:
            return 200, self.stats()
        if method == "POST" and parts == ["reset_stats"]:
            self.reset_stats()
            return 200, self.stats()
        if method == "GET" and len(parts) == 2 and parts[0] == "truth" and parts[1] in KINDS:
            return 200, self.account.truth(parts[1], iso=True)  # type: ignore[arg-type]
        if method == "POST" and parts == ["faults"]:
            try:
                self.inject(
                    str(data.get("kind")),
                    str(data.get("path_prefix", "/v1/")),
                    int(data.get("times", 1)),
                    seconds=data.get("seconds"),
                )
            except (TypeError, ValueError) as exc:
                return 400, {"error": str(exc)}
            return 200, {"ok": True}
        if method == "POST" and parts == ["clear_faults"]:
            self.clear_faults()
            return 200, {"ok": True}
        if method == "POST" and parts == ["expire_tokens"]:
            self.expire_tokens()
            return 200, {"ok": True}
        if method == "POST" and parts == ["mutate"]:
            try:
                return 200, self._mutate(data)
            except (KeyError, TypeError, ValueError) as exc:
                return 400, {"error": f"{type(exc).__name__}: {exc}"}
        return 404, {"error": "Not Found"}

    def _mutate(self, data: dict[str, Any]) -> dict[str, list[int]]:
        """Apply ``{"add_responses": n, "update_end_users": n|[ids], "update_responses": ...}``; return touched ids."""
        acct = self.account
        at = datetime.fromtimestamp(int(data["at"]), UTC) if data.get("at") is not None else None
        out: dict[str, list[int]] = {}
        for key, fn in (
            ("add_end_users", acct.add_end_users),
            ("add_responses", acct.add_responses),
            ("add_declines", acct.add_declines),
        ):
            if data.get(key):
                out[key] = [r["id"] for r in fn(int(data[key]), at)]
        if data.get("update_end_users"):
            arg = data["update_end_users"]
            updated = acct.update_end_users(arg if isinstance(arg, int) else list(arg), at)
            out["update_end_users"] = [r["id"] for r in updated]
        if data.get("update_responses"):
            arg = data["update_responses"]
            ids, fields = (arg.get("ids", []), arg.get("fields", {})) if isinstance(arg, dict) else (arg, {})
            out["update_responses"] = [r["id"] for r in acct.update_responses(list(ids), at, **fields)]
        return out


class _QuietHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    verbose = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up mid-response are normal under fault injection; stay quiet."""
        if self.verbose:
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every response carries Content-Length
    server_version = "WootricSandbox/1.0"
    timeout = 300
    sandbox: SandboxServer
    _count_status = True

    def setup(self) -> None:
        super().setup()
        # headers and body go out in two writes; without NODELAY, Nagle + delayed ACK adds ~40 ms
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        if self.sandbox.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _send(
        self,
        status: int,
        payload: Any,
        headers: dict[str, str] | None = None,
        *,
        truncate: bool = False,
        count: bool | None = None,
    ) -> None:
        body = _dumps(payload)
        if truncate:
            body = body[: len(body) // 2]
        if self._count_status if count is None else count:
            self.sandbox._count_status(status)
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _reset_connection(self) -> None:
        """Abort with RST (SO_LINGER 0) and no response at all."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self, method: str) -> None:
        sb = self.sandbox
        split = urlsplit(self.path)
        path = split.path.rstrip("/") or "/"
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        body = self._read_body()
        if path.startswith("/_sandbox/"):
            status, payload = sb._admin(method, path, body)
            self._send(status, payload, count=False)
            return
        ctype = self.headers.get("Content-Type") or ""
        form: dict[str, str] = {}
        if body and ctype.startswith("multipart/form-data"):
            form = _parse_multipart(body, ctype)
        elif body and ctype.startswith("application/json"):
            try:
                loaded = json.loads(body)
                form = {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}
            except ValueError:
                form = {}
        elif body:  # curl -d default: application/x-www-form-urlencoded (also used with GET in the docs)
            form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}
        params = {**query, **form}
        is_token = path == "/oauth/token"
        self._count_status = not is_token  # status_counts/rate_limited describe API requests only
        sb._count_request(path, is_token)

        truncate = False
        fault = sb._take_fault(path)
        if fault is not None:
            if fault.kind == "reset":
                self._reset_connection()
                return
            if fault.kind == "slow":
                time.sleep(fault.seconds if fault.seconds is not None else sb.slow_seconds)
            elif fault.kind in ("500", "502", "503"):
                code = int(fault.kind)
                self._send(code, {"error": _REASONS[code]})
                return
            elif fault.kind == "429":
                headers = sb._rate_headers(sb.rate_limit or 100, 0, math.ceil(time.time() + 1))
                self._send(429, {"error": "Rate limit exceeded"}, headers)
                return
            elif fault.kind == "401":
                sb.expire_tokens()
                self._send(401, {"error": "Unauthorized"})
                return
            elif fault.kind == "truncated":
                truncate = True

        if is_token:
            if method != "POST":
                self._send(405, {"error": "Method Not Allowed"}, truncate=truncate)
                return
            status, payload = sb._oauth(params, query)
            self._send(status, payload, truncate=truncate)
            return

        auth = self.headers.get("Authorization") or ""
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else params.get("access_token")
        if not sb._token_valid(token):
            self._send(401, {"error": "Unauthorized"}, truncate=truncate)
            return
        allowed, headers = sb._consume_rate()
        if not allowed:
            self._send(429, {"error": "Rate limit exceeded"}, headers, truncate=truncate)
            return
        if method != "GET":
            self._send(405, {"error": "Method Not Allowed"}, headers, truncate=truncate)
            return
        try:
            status, payload = sb._route(path, params)
        except _BadRequest as exc:
            status, payload = 400, {"errors": [{"status": 400, "message": str(exc)}]}
        except Exception as exc:  # noqa: BLE001 - a sandbox bug must still answer in JSON
            status, payload = 500, {"error": f"sandbox error: {type(exc).__name__}: {exc}"}
        self._send(status, payload, headers, truncate=truncate)
