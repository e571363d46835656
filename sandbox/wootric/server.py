"""Loopback HTTP server that mimics the Wootric API on top of an ``Account``.

It reproduces what a connector must cope with (OAuth grants, token expiry, 30-page cap,
per-account rate limits, transient faults) and exposes unauthenticated ``/_sandbox/*``
admin endpoints so benchmarks running the pipeline in a subprocess can read ground truth,
counters and inject faults. The HTTP plumbing lives in ``sandbox.base``; this module only
declares Wootric's routes, OAuth and error shapes.
"""

from __future__ import annotations

import math
import secrets
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Unpack

from sandbox.base import Fault, FaultQueue, RateDecision, Reply, Request, Route, SandboxBase, ServerSettings
from sandbox.wootric.data import KINDS, Account, Kind
from sandbox.wootric.params import BadRequest, args_of, bounds, date_param, int_param, truthy

FAULT_KINDS = frozenset({"500", "502", "503", "429", "401", "truncated", "reset", "slow"})
TOKEN_PATH = "/oauth/token"
_REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
_SCORE_GROUPS = {"promoters": (9, 10), "passives": (7, 8), "detractors": tuple(range(7))}
_NOT_FOUND = (404, {"error": "Not Found"})
_STATS: dict[str, Any] = {
    "requests": int,
    "token_requests": int,
    "by_path": Counter,
    "status_counts": Counter,
    "rate_limited": int,
    "faults": Counter,
}


def _rate_headers(limit: int, remaining: int, reset: int) -> dict[str, str]:
    return {
        "X-Rate-Limit-Limit": str(limit),
        "X-Rate-Limit-Remaining": str(max(remaining, 0)),
        "X-Rate-Limit-Reset": str(reset),
    }


def _decision_headers(decision: RateDecision | None) -> dict[str, str]:
    if decision is None:
        return {}
    return _rate_headers(decision.limit, decision.remaining, math.ceil(decision.reset_at))


class SandboxServer(SandboxBase):
    """Threaded Wootric look-alike; ``start()`` binds 127.0.0.1 on a random port by default."""

    name = "wootric"
    server_version = "WootricSandbox/1.0"

    def __init__(
        self,
        account: Account,
        *,
        page_cap: int = 30,
        max_per_page: int = 50,
        default_per_page: int = 25,
        token_ttl: float = 7200.0,
        client_id: str = "sandbox-client",
        client_secret: str = "sandbox-secret",
        username: str = "analyst@example.com",
        password: str = "sandbox-password",
        account_token: str = "NPS-sandbox",
        **settings: Unpack[ServerSettings],
    ) -> None:
        self.account = account
        self.page_cap, self.max_per_page, self.default_per_page = page_cap, max_per_page, default_per_page
        self.token_ttl = token_ttl
        self.client_id, self.client_secret = client_id, client_secret
        self.username, self.password, self.account_token = username, password, account_token
        self._lock = threading.Lock()
        self._tokens: dict[str, float] = {}  # access token -> expiry (epoch seconds)
        self._refresh_tokens: set[str] = set()
        super().__init__(
            routes=self._routes(),
            faults=FaultQueue(FAULT_KINDS, default_prefix="/v1/", selectors=False),
            stats=_STATS,
            admin_routes=[Route("POST", "/_sandbox/expire_tokens", self._admin_expire)],
            **settings,
        )

    def _routes(self) -> list[Route]:
        user = "/v1/end_users/{user}"
        acct = self.account
        return [
            Route("POST", TOKEN_PATH, self._token, auth=False),
            Route("GET", "/v2/email_stats", self._email_stats),
            Route("GET", "/v2/email_stats/sources", lambda req: (200, acct.email_sources)),
            Route("GET", "/v1/responses", partial(self._list_route, "responses")),
            Route("GET", "/v1/declines", partial(self._list_route, "declines")),
            Route("GET", "/v1/nps_summary", self._nps_summary),
            Route("GET", "/v1/segments", lambda req: (200, acct.render_segments())),
            Route("GET", "/v1/survey_templates", lambda req: (200, acct.survey_templates)),
            Route("GET", "/v1/end_users", partial(self._list_route, "end_users")),
            Route("GET", "/v1/end_users/phone_number/{phone}", self._user_by_phone),
            Route("GET", user, partial(self._user_route, None, None)),
            Route("GET", f"{user}/settings", partial(self._user_route, "settings", None)),
            Route("GET", f"{user}/responses", partial(self._user_route, "responses", None)),
            Route("GET", f"{user}/declines", partial(self._user_route, "declines", None)),
            Route("GET", f"{user}/responses/{{item}}", partial(self._user_route, "responses", "item")),
            Route("GET", f"{user}/declines/{{item}}", partial(self._user_route, "declines", "item")),
        ]

    # ------------------------------------------------------------------ pipeline hooks
    def begin(self, req: Request) -> None:
        if req.path == TOKEN_PATH:
            req.count_status = False  # status_counts/rate_limited describe API requests only
            self.counters.add("token_requests")
        else:
            super().begin(req)

    def fault_reply(self, req: Request, fault: Fault) -> Reply:
        if fault.kind == "429":
            headers = _rate_headers(self.rate_limit or 100, 0, math.ceil(self.clock() + 1))
            return Reply(429, {"error": "Rate limit exceeded"}, headers)
        if fault.kind == "401":
            self.expire_tokens()
            return Reply(401, {"error": "Unauthorized"})
        code = int(fault.kind)
        return Reply(code, {"error": _REASONS[code]})

    def answer(self, req: Request) -> Reply:
        """Token grants skip auth and the rate limit; every API request is auth, rate, GET-only, route."""
        if req.path == TOKEN_PATH:
            return self.run(req) if req.method == "POST" else Reply(405, {"error": "Method Not Allowed"})
        auth = req.headers.get("Authorization") or ""
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else args_of(req).get("access_token")
        if not self._token_valid(token):
            return Reply(401, {"error": "Unauthorized"})
        decision = self.rate.consume()
        headers = _decision_headers(decision)
        if decision is not None and not decision.allowed:
            return Reply(429, {"error": "Rate limit exceeded"}, headers)
        if req.method != "GET":
            return Reply(405, {"error": "Method Not Allowed"}, headers)
        if req.route is None:
            return Reply(*_NOT_FOUND, headers)
        return self.run(req, headers)

    def error_payload(self, status: int, message: str | list[str]) -> Any:
        if status == 400:
            return {"errors": [{"status": 400, "message": message}]}
        return {"error": message}

    def truth(self, kind: str) -> Any:
        return self.account.truth(kind, iso=True) if kind in KINDS else None  # type: ignore[arg-type]

    # ------------------------------------------------------------------ faults and tokens
    def inject(self, kind: str, path_prefix: str = "/v1/", times: int = 1, *, seconds: float | None = None) -> None:
        """Queue a fault for the next ``times`` requests whose path starts with ``path_prefix``."""
        self.faults.add(kind, path_prefix, times, seconds=seconds)

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
            self._tokens[token] = self.clock() + self.token_ttl
        return token

    def _token_valid(self, token: str | None) -> bool:
        if not token:
            return False
        with self._lock:
            expiry = self._tokens.get(token)
            if expiry is None:
                return False
            if self.clock() >= expiry:
                del self._tokens[token]
                return False
            return True

    def _admin_expire(self, req: Request, data: Any) -> tuple[int, Any]:
        self.expire_tokens()
        return 200, {"ok": True}

    # ------------------------------------------------------------------ OAuth
    def _token(self, req: Request) -> tuple[int, dict[str, Any]]:
        params, query = args_of(req), req.query
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
        body["created_at"] = int(self.clock())
        return 200, body

    # ------------------------------------------------------------------ API routes
    def _page(self, params: dict[str, str]) -> tuple[int, int]:
        page = int_param(params, "page", 1)
        per_page = int_param(params, "per_page", self.default_per_page)
        if page < 1:
            raise BadRequest("page must be greater than 0")
        if page > self.page_cap:
            raise BadRequest(f"page can't be greater than {self.page_cap}")
        if per_page < 1:
            raise BadRequest("per_page must be greater than 0")
        per_page = min(per_page, self.max_per_page)
        return (page - 1) * per_page, per_page

    @staticmethod
    def _descending(params: dict[str, str], default: str) -> bool:
        order = (params.get("sort_order") or default).strip().lower()
        if order not in ("asc", "desc"):
            raise BadRequest("sort_order must be asc or desc")
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
        created = bounds(params, "created")
        acct = self.account
        if kind == "end_users":
            sort_key = (params.get("sort_key") or "email").strip()
            if sort_key not in ("email", "created_at", "updated_at"):
                raise BadRequest("sort_key must be one of email, created_at, updated_at")
            kwargs: dict[str, Any] = {
                "updated": bounds(params, "updated"),
                "email": params.get("email") or None,
                "sort_key": sort_key,
                "descending": self._descending(params, "asc"),
            }
        else:
            kwargs = {
                "sort_key": "created_at",
                "descending": self._descending(params, "desc"),
                "include_excluded": kind != "responses" or truthy(params.get("excluded_from_calculations")),
                "end_user_id": end_user_id,
                "scores": scores,
            }
        with acct.lock:
            rows = acct.query(kind, created=created, offset=offset, limit=limit, **kwargs)
            return [acct.render(kind, r) for r in rows]

    def _list_route(self, kind: Kind, req: Request) -> tuple[int, Any]:
        return 200, self._list(kind, args_of(req))

    def _email_stats(self, req: Request) -> tuple[int, Any]:
        params = args_of(req)
        start = date_param(params, "date_range[start_date]")
        end = date_param(params, "date_range[end_date]")
        return 200, self.account.email_stats(start, end)

    def _nps_summary(self, req: Request) -> tuple[int, Any]:
        params = args_of(req)
        today = datetime.now(UTC).date()
        start = date_param(params, "date[start]")
        end = date_param(params, "date[end]") or today
        return 200, self.account.nps_summary(start or end - timedelta(days=30), end)

    def _user_by_phone(self, req: Request) -> tuple[int, Any]:
        acct, phone = self.account, req.params["phone"]
        with acct.lock:
            user = acct.find_end_user(phone=phone) if phone.startswith("+") else self._user_by_id(phone)
            return (200, acct.render("end_users", user)) if user else _NOT_FOUND

    def _user_route(self, sub: str | None, item: str | None, req: Request) -> tuple[int, Any]:
        """``/v1/end_users/{user}[/sub[/item]]``: the user is looked up first (a missing one is a 404)."""
        acct, params, raw = self.account, args_of(req), req.params["user"]
        with acct.lock:
            if truthy(params.get("lookup_by_email")):
                user = acct.find_end_user(email=raw)
            elif truthy(params.get("lookup_by_external_id")):
                user = acct.find_end_user(external_id=raw)
            else:
                user = self._user_by_id(raw)
            if user is None:
                return _NOT_FOUND
            if sub is None:
                return 200, acct.render("end_users", user)
            if sub == "settings":
                return 200, acct.render_settings(user)
            kind: Kind = "responses" if sub == "responses" else "declines"
            if item is None:
                return 200, self._list(kind, params, end_user_id=user["id"])
            tail = req.params[item]
            if kind == "responses" and tail in _SCORE_GROUPS:
                return 200, self._list(kind, params, end_user_id=user["id"], scores=_SCORE_GROUPS[tail])
            if tail.isdigit():
                rec = acct.get(kind, int(tail))
                if rec is not None and rec["end_user_id"] == user["id"]:
                    return 200, acct.render(kind, rec)
            return _NOT_FOUND

    def _user_by_id(self, raw: str) -> dict[str, Any] | None:
        return self.account.get("end_users", int(raw)) if raw.isdigit() else None

    # ------------------------------------------------------------------ admin
    def mutate(self, data: dict[str, Any]) -> dict[str, list[int]]:
        """Apply ``{"add_responses": n, "update_end_users": n|[ids], "update_responses": ...,
        "delete": {"kind", "ids"} | [...]}``; return touched ids."""
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
        for spec in _listed(data.get("delete")):
            kind = spec["kind"]
            if kind not in KINDS:
                raise ValueError(f"unknown kind {kind!r}")
            for rid in spec["ids"]:
                acct.delete(kind, int(rid))
            out.setdefault(f"delete_{kind}", []).extend(int(rid) for rid in spec["ids"])
        return out


def _listed(value: Any) -> list[dict[str, Any]]:
    """``{"kind", "ids"}`` or a list of them (the admin ``delete`` key)."""
    return [value] if isinstance(value, dict) else list(value or [])
