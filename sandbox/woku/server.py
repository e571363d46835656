"""Loopback HTTP server that mimics the Woku Client API on top of a ``WokuCompany``.

It serves the read endpoints a connector syncs from, the external-tracker write-back and the
voicemail upload (v0 ``/wokus/create-voicemail`` and its v1 alias), with the API's validation
(NestJS-style ``{"statusCode", "message", "error"}`` bodies), bearer API-key auth, page/limit
envelopes, optional rate limiting and injectable faults. That includes ``lost_answer``: the
request is processed, then the connection drops before the answer. Unauthenticated
``/_sandbox/*`` admin endpoints let a pipeline running in a subprocess be checked and steered.
"""

from __future__ import annotations

import json
import math
import re
import socket
import struct
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from sandbox.woku.data import (
    ENTITY_TYPES,
    KINDS,
    SURVEYS,
    ApiError,
    Record,
    WokuCompany,
    is_object_id,
    parse_js_date,
    sha256_hex,
)

FAULT_KINDS = frozenset({"500", "502", "503", "504", "429", "401", "reset", "slow", "truncated", "lost_answer"})
IDEMPOTENCY_HEADER = "X-Woku-Idempotency-Key"
SPEC_MAX_LIMIT = 100  # the spec's declared maximum where it declares one (external trackers, search)
_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
_SURVEY_LABEL = {"nps": "NPS", "csat": "CSAT", "ces": "CES"}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_INT = re.compile(r"^-?\d+$")
_BAD_OBJECT_ID = "Validation failed (ObjectId is expected)"
Handler = Callable[["_Request"], tuple[int, Any]]


def error_body(status: int, message: str | list[str]) -> dict[str, Any]:
    """NestJS's error shape (the spec's ValidationErrorResponseDto; ``message`` is a list for DTO errors)."""
    return {"statusCode": status, "message": message, "error": _REASONS.get(status, "Error")}


def _dumps(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# ---------------------------------------------------------------------- request parsing
@dataclass
class FilePart:
    """One uploaded file of a multipart body."""

    filename: str | None
    content_type: str
    data: bytes


def _disposition_param(disposition: str, name: str) -> str | None:
    m = re.search(rf'(?:^|;)\s*{name}\*?=(?:"((?:[^"\\]|\\.)*)"|([^;]*))', disposition, re.IGNORECASE)
    if not m:
        return None
    return m.group(1) if m.group(1) is not None else m.group(2).strip()


def parse_multipart(body: bytes, content_type: str) -> tuple[dict[str, str], dict[str, FilePart]]:
    """Form fields and files of a multipart/form-data body; binary-safe (no line-ending rewriting)."""
    m = re.search(r'boundary=(?:"([^"]+)"|([^;\s]+))', content_type, re.IGNORECASE)
    if not m:
        raise ApiError(400, ["Multipart: Boundary not found"])
    boundary = (m.group(1) or m.group(2)).encode("latin-1")
    fields: dict[str, str] = {}
    files: dict[str, FilePart] = {}
    for chunk in (b"\r\n" + body).split(b"\r\n--" + boundary)[1:]:
        if chunk.startswith(b"--"):
            break
        head, sep, data = chunk.partition(b"\r\n\r\n")
        if not sep:
            continue
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, colon, value = line.partition(":")
            if colon:
                headers[key.strip().lower()] = value.strip()
        disposition = headers.get("content-disposition", "")
        name = _disposition_param(disposition, "name")
        if name is None:
            continue
        filename = _disposition_param(disposition, "filename")
        if filename is not None:
            files[name] = FilePart(filename, headers.get("content-type", ""), data)
        else:
            fields[name] = data.decode("utf-8", "replace")
    return fields, files


def is_audio(part: FilePart) -> bool:
    """Audio if the part says ``audio/*``; when it gives no type (or octet-stream), sniff magic bytes."""
    ctype = part.content_type.split(";")[0].strip().lower()
    if ctype.startswith("audio/"):
        return True
    if ctype not in ("", "application/octet-stream"):
        return False
    d = part.data
    return (
        (d[:4] == b"RIFF" and d[8:12] == b"WAVE")
        or d[:3] == b"ID3"
        or (len(d) > 1 and d[0] == 0xFF and d[1] & 0xE0 == 0xE0)  # MPEG audio frame sync
        or d[:4] in (b"OggS", b"fLaC", b"\x1aE\xdf\xa3")  # Ogg/Opus, FLAC, WebM/Matroska
        or d[4:8] == b"ftyp"  # M4A/AAC in MP4
        or d[:6] == b"#!AMR\n"
    )


@dataclass
class _Request:
    method: str
    path: str
    route: str
    params: dict[str, str]
    query: dict[str, str]
    headers: Any
    body: bytes
    _fields: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type") or ""

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object (urlencoded forms accepted too, as Express does)."""
        if self._fields is not None:
            return self._fields
        ctype = self.content_type.lower()
        if not self.body.strip():
            self._fields = {}
        elif ctype.startswith("application/x-www-form-urlencoded"):
            parsed = parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)
            self._fields = {k: v[-1] for k, v in parsed.items()}
        elif ctype.startswith("multipart/form-data"):
            self._fields = dict(parse_multipart(self.body, self.content_type)[0])
        else:
            try:
                loaded = json.loads(self.body)
            except ValueError as exc:
                raise ApiError(400, f"Unexpected token in JSON: {exc}") from None
            if not isinstance(loaded, dict):
                raise ApiError(400, ["request body must be a JSON object"])
            self._fields = loaded
        return self._fields


def _string_rule(errors: list[str], body: dict[str, Any], key: str, max_len: int, *, required: bool) -> Any:
    """class-validator style checks for an ``IsString``/``IsNotEmpty``/``MaxLength`` property."""
    value = body.get(key)
    if value is None:
        if required:
            errors.extend([f"{key} should not be empty", f"{key} must be a string"])
        return None
    if not isinstance(value, str):
        errors.append(f"{key} must be a string")
        return None
    if required and value == "":
        errors.append(f"{key} should not be empty")
    if len(value) > max_len:
        errors.append(f"{key} must be shorter than or equal to {max_len} characters")
    return value


@dataclass
class _Fault:
    kind: str
    path_prefix: str
    remaining: int
    seconds: float | None = None
    method: str | None = None
    every: int = 1
    seen: int = 0


class WokuSandboxServer:
    """Threaded Woku Client API look-alike; ``start()`` binds 127.0.0.1 on a free port by default.

    ``max_limit`` caps ``limit`` on lists whose spec declares no maximum (the envelope echoes the
    effective limit); lists with a declared maximum (external trackers) answer 400 above it.
    ``auth_error_status`` is 401 by default (the spec documents 403 "Invalid or missing API key"
    on some routes; pass 403 to get that).
    """

    def __init__(
        self,
        company: WokuCompany,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        default_limit: int = 20,
        max_limit: int = 100,
        rate_limit: int | None = None,
        rate_window: float = 60.0,
        retry_after: int = 1,
        slow_seconds: float = 5.0,
        max_audio_bytes: int = 25 * 1024 * 1024,
        auth_error_status: int = 401,
        verbose: bool = False,
    ) -> None:
        self.company = company
        self.host, self.port = host, port
        self.default_limit, self.max_limit = default_limit, max_limit
        self.rate_limit, self.rate_window, self.retry_after = rate_limit, rate_window, retry_after
        self.slow_seconds = slow_seconds
        self.max_audio_bytes = max_audio_bytes
        self.auth_error_status = auth_error_status
        self.verbose = verbose
        self._lock = threading.Lock()
        self._idempotency_lock = threading.Lock()
        self._idempotency: dict[str, tuple[int, Any]] = {}
        self._faults: list[_Fault] = []
        self._window = -1
        self._window_count = 0
        self._request_seq = 0
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._routes = self._build_routes()
        self.reset_stats()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> str:
        """Bind and serve in a daemon thread; returns the base URL."""
        if self._httpd is not None:
            return self.url
        handler = type("BoundWokuHandler", (_Handler,), {"sandbox": self})
        httpd = _QuietHTTPServer((self.host, self.port), handler)
        httpd.verbose = self.verbose
        self._httpd = httpd
        self.port = httpd.server_address[1]
        # a short poll interval keeps stop() fast: tests start a server per test
        serve = partial(httpd.serve_forever, poll_interval=0.05)
        self._thread = threading.Thread(target=serve, name="woku-sandbox", daemon=True)
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

    def __enter__(self) -> WokuSandboxServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_key(self) -> str:
        return self.company.api_key

    # ------------------------------------------------------------------ faults and stats
    def inject(
        self,
        kind: str,
        path_prefix: str = "/",
        times: int = 1,
        *,
        seconds: float | None = None,
        method: str | None = None,
        every: int = 1,
    ) -> None:
        """Queue a fault for ``times`` requests whose path starts with ``path_prefix`` (and ``method``).

        ``every=n`` hits only each n-th matching request (the others pass), e.g. ``every=10,
        times=50`` faults 50 of 500 requests. ``seconds``: delay for ``slow``, wait before
        dropping for ``lost_answer`` (a client timeout shorter than that sees a timeout instead),
        ``Retry-After`` for ``429``. Faults apply in the order they were queued.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(FAULT_KINDS)}")
        if times < 1 or every < 1:
            raise ValueError("times and every must be >= 1")
        with self._lock:
            self._faults.append(_Fault(kind, path_prefix, times, seconds, method.upper() if method else None, every))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if not path.startswith(fault.path_prefix) or (fault.method and fault.method != method):
                    continue
                fault.seen += 1
                if fault.seen % fault.every:
                    continue
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                self._faults_seen[fault.kind] += 1
                return fault
        return None

    def stats(self) -> dict[str, Any]:
        """Counters since the last reset; keys of per-POST counters are ``a:b`` strings (JSON-safe)."""
        with self._lock:
            return {
                "requests": self._requests,
                "by_path": dict(self._by_path),
                "by_route": dict(self._by_route),
                "status_counts": dict(self._status_counts),
                "rate_limited": self._rate_limited,
                "faults": dict(self._faults_seen),
                "lost_answers": self._lost_answers,
                "idempotent_replays": self._idempotent_replays,
                "voicemails_created": dict(self._voicemails),
                "tracker_assignments": dict(self._assignments),
                "trackers_created": dict(self._trackers_created),
            }

    def reset_stats(self) -> None:
        with self._lock:
            self._requests = 0
            self._by_path: Counter[str] = Counter()
            self._by_route: Counter[str] = Counter()
            self._status_counts: Counter[int] = Counter()
            self._rate_limited = 0
            self._faults_seen: Counter[str] = Counter()
            self._lost_answers = 0
            self._idempotent_replays = 0
            self._voicemails: Counter[str] = Counter()
            self._assignments: Counter[str] = Counter()
            self._trackers_created: Counter[str] = Counter()

    def voicemail_count(self, woku_id: str, sha256: str) -> int:
        """Voicemails accepted for (woku, file content) since the last ``reset_stats``."""
        with self._lock:
            return self._voicemails[f"{woku_id}:{sha256}"]

    def _bump(self, counter: Counter[str], key: str) -> None:
        with self._lock:
            counter[key] += 1

    def _count_request(self, method: str, path: str, route: str | None) -> str:
        with self._lock:
            self._requests += 1
            self._request_seq += 1
            self._by_path[f"{method} {path}"] += 1
            self._by_route[f"{method} {route or path}"] += 1
            return f"req_{self._request_seq:08d}"

    def _count_status(self, status: int) -> None:
        with self._lock:
            self._status_counts[status] += 1
            if status == 429:
                self._rate_limited += 1

    def _consume_rate(self) -> tuple[bool, int]:
        """Fixed windows of ``rate_window`` seconds; returns (allowed, seconds until the window resets)."""
        if self.rate_limit is None:
            return True, 0
        now = time.time()
        window = math.floor(now / self.rate_window)
        with self._lock:
            if window != self._window:
                self._window, self._window_count = window, 0
            self._window_count += 1
            allowed = self._window_count <= self.rate_limit
        return allowed, max(1, math.ceil((window + 1) * self.rate_window - now))

    def _authorized(self, header: str | None) -> bool:
        scheme, _, key = (header or "").strip().partition(" ")
        return scheme.lower() == "bearer" and key.strip() == self.company.api_key

    # ------------------------------------------------------------------ routing
    def _build_routes(self) -> list[tuple[str, str, re.Pattern[str], Handler, bool]]:
        table: list[tuple[str, str, Handler, bool]] = [("GET", "/v1/health", self._health, False)]
        for s in SURVEYS:
            table += [
                ("GET", f"/v1/{s}", partial(self._list_survey, s), True),
                ("GET", f"/v1/{s}-tools", partial(self._list_tools, s), True),
                ("GET", f"/v1/{s}-tool/{{id}}", partial(self._get_tool, s), True),
                ("GET", f"/v1/{s}/{{id}}", partial(self._get_survey, s), True),
            ]
        table += [
            ("GET", "/v1/wokus", self._list_wokus, True),
            ("GET", "/v1/wokus/{id}", self._get_woku, True),
            ("GET", "/v1/wokus/{id}/reviews", self._list_reviews, True),
            ("POST", "/v1/wokus/{wokuId}/voicemails", self._voicemail_v1, True),
            ("POST", "/wokus/create-voicemail", self._voicemail_v0, True),
            ("GET", "/v1/forms", self._list_forms, True),
            ("GET", "/v1/forms/{id}", self._get_form, True),
            ("GET", "/v1/forms/{id}/responses", self._list_form_responses, True),
            ("GET", "/v1/flows", self._list_flows, True),
            ("GET", "/v1/flows/{id}", self._get_flow, True),
            ("GET", "/v1/external-trackers", self._list_trackers, True),
            ("POST", "/v1/external-trackers", self._create_tracker, True),
            ("GET", "/v1/external-trackers/search", self._search_trackers, True),
            ("GET", "/v1/external-trackers/wokus/{wokuId}", self._list_woku_values, True),
            ("POST", "/v1/external-trackers/wokus/{wokuId}", self._assign_woku, True),
            ("PATCH", "/v1/external-trackers/{id}/activate", partial(self._set_active, True), True),
            ("PATCH", "/v1/external-trackers/{id}/deactivate", partial(self._set_active, False), True),
            ("GET", "/v1/external-trackers/{entityType}/{id}", self._list_entity_values, True),
            ("POST", "/v1/external-trackers/{entityType}/{id}", self._assign_entity, True),
            ("GET", "/v1/external-trackers/{id}", self._get_tracker, True),
        ]
        out = []
        for method, template, handler, auth in table:
            escaped = re.escape(template).replace(r"\{", "{").replace(r"\}", "}")
            pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", escaped)
            out.append((method, template, re.compile(f"^{pattern}$"), handler, auth))
        return out

    def _match(self, method: str, path: str) -> tuple[tuple[str, Handler, bool] | None, dict[str, str]]:
        for m, template, regex, handler, auth in self._routes:
            if m != method:
                continue
            hit = regex.match(path)
            if hit:
                return (template, handler, auth), {k: unquote(v) for k, v in hit.groupdict().items()}
        return None, {}

    # ------------------------------------------------------------------ parameter helpers
    def _paging(self, query: dict[str, str], *, spec_max: bool = False) -> tuple[int, int]:
        errors: list[str] = []
        values: dict[str, int] = {}
        for name, default in (("page", 1), ("limit", self.default_limit)):
            raw = query.get(name, "")
            if raw == "":
                values[name] = default
            elif _INT.match(raw.strip()):
                values[name] = int(raw)
                if values[name] < 1:
                    errors.append(f"{name} must not be less than 1")
            else:
                errors.append(f"{name} must be an integer number")
        if spec_max and values.get("limit", 0) > SPEC_MAX_LIMIT:
            errors.append(f"limit must not be greater than {SPEC_MAX_LIMIT}")
        if errors:
            raise ApiError(400, errors)
        return values["page"], min(values["limit"], self.max_limit)

    @staticmethod
    def _bool(query: dict[str, str], name: str) -> bool | None:
        raw = query.get(name)
        if raw is None or raw == "":
            return None
        low = raw.strip().lower()
        if low in ("true", "1"):
            return True
        if low in ("false", "0"):
            return False
        raise ApiError(400, [f"{name} must be a boolean value"])

    @staticmethod
    def _date(query: dict[str, str], name: str) -> int | None:
        raw = query.get(name)
        if raw is None or raw == "":
            return None
        ms = parse_js_date(raw)
        if ms is None:
            raise ApiError(400, [f"{name} must be a valid ISO 8601 date string"])
        return ms

    @staticmethod
    def _object_id(req: _Request, name: str) -> str:
        value = req.params[name]
        if not is_object_id(value):
            raise ApiError(400, _BAD_OBJECT_ID)
        return value

    def _require(self, kind: str, rid: str, label: str) -> Record:
        rec = self.company.get(kind, rid)
        if rec is not None:
            return rec
        if self.company.owner(kind, rid) == "foreign":
            raise ApiError(403, f"{label} does not belong to the caller company")
        raise ApiError(404, f"{label} not found")

    def _envelope(
        self,
        kind: str,
        req: _Request,
        *,
        spec_max: bool = False,
        parent: str | None = None,
        lo: int | None = None,
        hi: int | None = None,
        where: Callable[[Record], bool] | None = None,
        where_key: Hashable | None = None,
        decorate: Callable[[Record], Record] | None = None,
    ) -> tuple[int, Any]:
        page, limit = self._paging(req.query, spec_max=spec_max)
        offset = (page - 1) * limit
        total, recs = self.company.page(
            kind, offset, limit, parent=parent, lo=lo, hi=hi, where=where, where_key=where_key
        )
        data = [decorate(r) for r in recs] if decorate else recs
        return 200, {"data": data, "total": total, "page": page, "limit": limit}

    # ------------------------------------------------------------------ read handlers
    def _health(self, req: _Request) -> tuple[int, Any]:
        return 200, {"status": "ok"}

    def _list_survey(self, survey: str, req: _Request) -> tuple[int, Any]:
        q = req.query
        lo, hi = self._date(q, "from"), self._date(q, "to")
        checks: list[Callable[[Record], bool]] = []
        tool_key = f"{survey}ToolId"
        tool = q.get(tool_key)
        if tool:
            if not is_object_id(tool):
                raise ApiError(400, [f"{tool_key} must be a mongodb id"])
            if self.company.get(f"{survey}_tools", tool) is None:
                raise ApiError(403, f"{_SURVEY_LABEL[survey]} tool filter does not belong to the caller company")
            checks.append(lambda r: r[tool_key] == tool)
        with_feedback = bool(self._bool(q, "withFeedback"))
        if with_feedback:
            checks.append(lambda r: r["textnote"] is not None or r["voicemail"] is not None)
        where = (lambda r: all(c(r) for c in checks)) if checks else None
        key = ("survey", tool or None, with_feedback)
        return self._envelope(f"{survey}_responses", req, lo=lo, hi=hi, where=where, where_key=key)

    def _get_survey(self, survey: str, req: _Request) -> tuple[int, Any]:
        rid = self._object_id(req, "id")
        rec = self.company.get(f"{survey}_responses", rid)
        if rec is None:
            raise ApiError(404, f"{_SURVEY_LABEL[survey]} not found")
        return 200, rec

    def _list_tools(self, survey: str, req: _Request) -> tuple[int, Any]:
        return self._envelope(f"{survey}_tools", req)

    def _get_tool(self, survey: str, req: _Request) -> tuple[int, Any]:
        rid = self._object_id(req, "id")
        rec = self.company.get(f"{survey}_tools", rid)
        if rec is None:
            raise ApiError(403, "Tool does not belong to caller")  # the spec documents 403 only here
        return 200, rec

    def _list_wokus(self, req: _Request) -> tuple[int, Any]:
        return self._envelope("wokus", req)

    def _get_woku(self, req: _Request) -> tuple[int, Any]:
        rid = self._object_id(req, "id")
        woku = self._require("wokus", rid, "Woku")
        _, reviews = self.company.page("woku_reviews", 0, 1 << 62, parent=rid)
        voice = sum(r["type"] == "voice" for r in reviews)
        avg = round(sum(r["qualification"] for r in reviews) / len(reviews), 2) if reviews else None
        stats = {"reviews": len(reviews), "textReviews": len(reviews) - voice, "voiceReviews": voice}
        return 200, {**woku, "stats": {**stats, "averageQualification": avg}}

    def _list_reviews(self, req: _Request) -> tuple[int, Any]:
        rid = self._object_id(req, "id")
        self._require("wokus", rid, "Woku")
        return self._envelope("woku_reviews", req, parent=rid)

    def _list_forms(self, req: _Request) -> tuple[int, Any]:
        return self._envelope("forms", req)

    def _get_form(self, req: _Request) -> tuple[int, Any]:
        form = self._require("forms", self._object_id(req, "id"), "Form")
        if not form["active"]:
            raise ApiError(404, "Form not found or inactive")
        return 200, form

    def _list_form_responses(self, req: _Request) -> tuple[int, Any]:
        rid = self._object_id(req, "id")
        self._require("forms", rid, "Form")
        return self._envelope("form_responses", req, parent=rid)

    def _list_flows(self, req: _Request) -> tuple[int, Any]:
        return self._envelope("flows", req)

    def _get_flow(self, req: _Request) -> tuple[int, Any]:
        flow = self._require("flows", self._object_id(req, "id"), "Flow")
        wokus = [w for w in (self.company.get("wokus", wid) for wid in flow["wokuIds"]) if w is not None]
        nps = self.company.get("nps_tools", flow["npsToolId"]) if flow["npsToolId"] else None
        return 200, {**flow, "wokus": wokus, "npsTool": nps}

    # ------------------------------------------------------------------ external trackers
    def _list_trackers(self, req: _Request) -> tuple[int, Any]:
        include_inactive = self._bool(req.query, "includeInactive") or False
        include_usage = self._bool(req.query, "includeUsage") or False
        decorate = (lambda r: {**r, "usageCount": self.company.usage_count(r["_id"])}) if include_usage else None
        where = None if include_inactive else (lambda r: bool(r["active"]))
        return self._envelope(
            "external_tracker_definitions", req, spec_max=True, where=where, where_key="active", decorate=decorate
        )

    def _get_tracker(self, req: _Request) -> tuple[int, Any]:
        rec = self.company.get("external_tracker_definitions", self._object_id(req, "id"))
        if rec is None:
            raise ApiError(404, "Tracker not found")
        return 200, rec

    def _set_active(self, active: bool, req: _Request) -> tuple[int, Any]:
        return 200, self.company.set_tracker_active(self._object_id(req, "id"), active)

    def _create_tracker(self, req: _Request) -> tuple[int, Any]:
        """Create a definition; a repeated ``X-Woku-Idempotency-Key`` replays the first answer."""
        key = (req.headers.get(IDEMPOTENCY_HEADER) or "").strip()
        with self._idempotency_lock:  # serializes creates, so two racing retries cannot both create
            if key and key in self._idempotency:
                with self._lock:
                    self._idempotent_replays += 1
                return self._idempotency[key]
            body = req.json_object()
            errors: list[str] = []
            name = _string_rule(errors, body, "name", 60, required=True)
            system = _string_rule(errors, body, "system", 80, required=False)
            if body.get("system") is None:
                errors.append("system must be a string")
            description = _string_rule(errors, body, "description", 500, required=False)
            if errors:
                raise ApiError(400, errors)
            try:
                rec = self.company.create_tracker(name, system, description)
                result: tuple[int, Any] = (201, rec)
                self._bump(self._trackers_created, name)
            except ApiError as exc:
                result = (exc.status, error_body(exc.status, exc.message))
            if key:
                self._idempotency[key] = result
            return result

    def _search_trackers(self, req: _Request) -> tuple[int, Any]:
        errors: list[str] = []
        name = _string_rule(errors, req.query, "name", 60, required=True)
        value = _string_rule(errors, req.query, "value", 500, required=True)
        if errors:
            raise ApiError(400, errors)
        page, limit = self._paging(req.query, spec_max=True)
        hits = self.company.search_woku_values(name, value)
        return 200, {"data": hits[(page - 1) * limit : page * limit], "total": len(hits), "page": page, "limit": limit}

    def _entity_type(self, req: _Request) -> str:
        entity_type = req.params["entityType"]
        if entity_type not in ENTITY_TYPES:
            raise ApiError(400, f"Unsupported entity type: {entity_type}")
        return entity_type

    def _list_entity_values(self, req: _Request) -> tuple[int, Any]:
        entity_type = self._entity_type(req)
        return 200, self.company.tracker_values(entity_type, self._object_id(req, "id"))

    def _list_woku_values(self, req: _Request) -> tuple[int, Any]:
        return 200, self.company.tracker_values("woku", self._object_id(req, "wokuId"))

    def _assign(self, entity_type: str, entity_id: str, req: _Request) -> tuple[int, Any]:
        body = req.json_object()
        errors: list[str] = []
        name = _string_rule(errors, body, "name", 60, required=True)
        value = _string_rule(errors, body, "value", 500, required=True)
        if errors:
            raise ApiError(400, errors)
        rec, _created = self.company.assign_tracker(entity_type, entity_id, name, value)
        self._bump(self._assignments, f"{entity_type}:{entity_id}:{name}")
        return 201, rec

    def _assign_entity(self, req: _Request) -> tuple[int, Any]:
        entity_type = self._entity_type(req)
        return self._assign(entity_type, self._object_id(req, "id"), req)

    def _assign_woku(self, req: _Request) -> tuple[int, Any]:
        return self._assign("woku", self._object_id(req, "wokuId"), req)

    # ------------------------------------------------------------------ voicemails
    def _voicemail_v0(self, req: _Request) -> tuple[int, Any]:
        return self._voicemail(req, None)

    def _voicemail_v1(self, req: _Request) -> tuple[int, Any]:
        return self._voicemail(req, self._object_id(req, "wokuId"))

    def _voicemail(self, req: _Request, path_woku: str | None) -> tuple[int, Any]:
        """Validate like the seed page (v0) / V1CreateVoicemailBodyDto (v1), then store a voice review."""
        if not req.content_type.lower().startswith("multipart/form-data"):
            raise ApiError(400, ["Content-Type must be multipart/form-data", "file is required"])
        fields, files = parse_multipart(req.body, req.content_type)
        file = files.get("file")
        if file is not None and len(file.data) > self.max_audio_bytes:
            raise ApiError(413, f"File too large: the limit is {self.max_audio_bytes} bytes")
        errors: list[str] = []
        woku_id = path_woku if path_woku is not None else fields.get("wokuId", "")
        if path_woku is None and not is_object_id(woku_id):
            errors.append("wokuId must be a mongodb id")
        qualification = fields.get("qualification", "")
        if qualification not in ("1", "2", "3", "4", "5"):
            errors.append("qualification must be one of the following values: 1, 2, 3, 4, 5")
        anonymous_raw = fields.get("anonymous", "")
        if anonymous_raw not in ("true", "false", ""):
            errors.append("anonymous must be one of the following values: true, false")
        anonymous = anonymous_raw == "true"
        email = fields.get("clientEmail", "").strip() or None
        if email is not None and not _EMAIL.match(email):
            errors.append("clientEmail must be an email")
        if email is None and not anonymous:
            errors.append("clientEmail is required unless anonymous is true")
        language = fields.get("language", "")
        if (path_woku is not None or language) and language not in ("es", "en"):
            errors.append("language must be one of the following values: es, en")
        channel = fields.get("responseChannel", "") or "api"
        if len(channel) > 48:
            errors.append("responseChannel must be shorter than or equal to 48 characters")
        if file is None or not file.data:
            errors.append("file is required")
        elif not is_audio(file):
            errors.append("file must be an audio file")
        if errors:
            raise ApiError(400, errors)
        assert file is not None
        answer, _review = self.company.create_voicemail(
            woku_id,
            audio=file.data,
            qualification=int(qualification),
            client_email=email,
            client_phone=fields.get("clientPhone", "").strip() or None,
            anonymous=anonymous,
            language=language or "es",
            response_channel=channel,
            filename=file.filename,
        )
        self._bump(self._voicemails, f"{woku_id}:{sha256_hex(file.data)}")
        return 201, answer

    # ------------------------------------------------------------------ admin
    def _admin(self, method: str, path: str, query: dict[str, str], body: bytes) -> tuple[int, Any]:
        parts = path.strip("/").split("/")[1:]
        try:
            data = json.loads(body) if body.strip() else {}
        except ValueError:
            return 400, {"error": "body must be JSON"}
        co = self.company
        if method == "GET" and parts == ["info"]:
            return 200, {
                "api_key": co.api_key,
                "company_id": co.company_id,
                "counts": {k: co.count(k) for k in KINDS},
                "foreign_ids": co.foreign_ids,
            }
        if method == "GET" and parts == ["stats"]:
            return 200, self.stats()
        if method == "POST" and parts == ["reset_stats"]:
            self.reset_stats()
            return 200, self.stats()
        if method == "GET" and len(parts) == 2 and parts[0] == "truth" and parts[1] in KINDS:
            return 200, co.truth(parts[1], iso=True)
        if method == "GET" and parts == ["voicemails"]:
            return 200, co.voicemails_for(query.get("wokuId") or None, query.get("sha256") or None)
        if method == "POST" and parts == ["faults"]:
            try:
                self.inject(
                    str(data.get("kind")),
                    str(data.get("path_prefix", "/")),
                    int(data.get("times", 1)),
                    seconds=data.get("seconds"),
                    method=data.get("method"),
                    every=int(data.get("every", 1)),
                )
            except (TypeError, ValueError) as exc:
                return 400, {"error": str(exc)}
            return 200, {"ok": True}
        if method == "POST" and parts == ["clear_faults"]:
            self.clear_faults()
            return 200, {"ok": True}
        if method == "POST" and parts == ["mutate"]:
            try:
                return 200, self._mutate(data)
            except (KeyError, TypeError, ValueError, ApiError) as exc:
                return 400, {"error": f"{type(exc).__name__}: {exc}"}
        return 404, {"error": "Not Found"}

    def _mutate(self, data: dict[str, Any]) -> dict[str, list[str]]:
        """Apply additions and edits; returns the touched ids per key.

        ``{"at": epoch|ISO, "add_nps_responses": n, "add_csat_responses": n, "add_ces_responses": n,
        "add_woku_reviews": n | {"n", "wokuId", "voice"}, "add_form_responses": n | {"n", "formId"},
        "update": {"kind", "ids", "fields"} | [...]}``
        """
        co = self.company
        at = data.get("at")
        out: dict[str, list[str]] = {}
        for survey in SURVEYS:
            key = f"add_{survey}_responses"
            if data.get(key):
                out[key] = [r["_id"] for r in co.add_responses(survey, int(data[key]), at)]
        spec = data.get("add_woku_reviews")
        if spec:
            spec = spec if isinstance(spec, dict) else {"n": spec}
            recs = co.add_reviews(int(spec["n"]), at, woku_id=spec.get("wokuId"), voice=spec.get("voice"))
            out["add_woku_reviews"] = [r["_id"] for r in recs]
        spec = data.get("add_form_responses")
        if spec:
            spec = spec if isinstance(spec, dict) else {"n": spec}
            recs = co.add_form_responses(int(spec["n"]), at, form_id=spec.get("formId"))
            out["add_form_responses"] = [r["_id"] for r in recs]
        updates = data.get("update") or []
        for upd in [updates] if isinstance(updates, dict) else updates:
            recs = co.update_records(upd["kind"], list(upd["ids"]), upd.get("at", at), **(upd.get("fields") or {}))
            out.setdefault(f"update_{upd['kind']}", []).extend(r["_id"] for r in recs)
        return out


class _QuietHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128
    verbose = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up mid-response are normal under fault injection; stay quiet."""
        if self.verbose:
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every response carries Content-Length
    server_version = "WokuSandbox/1.0"
    timeout = 300
    sandbox: WokuSandboxServer

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

    def do_PATCH(self) -> None:
        self._handle("PATCH")

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
        count: bool = True,
    ) -> None:
        body = _dumps(payload)
        if truncate:
            body = body[: len(body) // 2]
        if count:
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
            self.wfile.flush()
        except OSError:
            pass
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    def _read_body(self) -> bytes:
        """Content-Length or chunked bodies (a streaming upload sends the latter)."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self, method: str) -> None:
        sb = self.sandbox
        split = urlsplit(self.path)
        path = split.path.rstrip("/") or "/"
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        body = self._read_body()
        if path.startswith("/_sandbox/"):
            status, payload = sb._admin(method, path, query, body)
            self._send(status, payload, count=False)
            return
        route, params = sb._match(method, path)
        request_id = sb._count_request(method, path, route[0] if route else None)
        headers = {"X-Request-Id": request_id}

        truncate = False
        lost: _Fault | None = None
        fault = sb._take_fault(method, path)
        if fault is not None:
            if fault.kind == "reset":
                self._reset_connection()
                return
            if fault.kind == "slow":
                time.sleep(fault.seconds if fault.seconds is not None else sb.slow_seconds)
            elif fault.kind in ("500", "502", "503", "504", "401"):
                code = int(fault.kind)
                message = "Invalid or missing API key" if code == 401 else _REASONS[code]
                self._send(code, error_body(code, message), headers)
                return
            elif fault.kind == "429":
                wait = int(fault.seconds) if fault.seconds is not None else sb.retry_after
                body_429 = {**error_body(429, "ThrottlerException: Too Many Requests"), "retryAfter": wait}
                self._send(429, body_429, {**headers, "Retry-After": str(wait)})
                return
            elif fault.kind == "truncated":
                truncate = True
            elif fault.kind == "lost_answer":
                lost = fault

        if route is None:
            self._send(404, error_body(404, f"Cannot {method} {path}"), headers)
            return
        template, handler, needs_auth = route
        allowed, wait = sb._consume_rate()
        if not allowed:
            body_429 = {**error_body(429, "ThrottlerException: Too Many Requests"), "retryAfter": wait}
            self._send(429, body_429, {**headers, "Retry-After": str(wait)})
            return
        if needs_auth and not sb._authorized(self.headers.get("Authorization")):
            status = sb.auth_error_status
            self._send(status, error_body(status, "Invalid or missing API key"), headers)
            return
        req = _Request(method, path, template, params, query, self.headers, body)
        try:
            status, payload = handler(req)
        except ApiError as exc:
            status, payload = exc.status, error_body(exc.status, exc.message)
        except Exception as exc:  # noqa: BLE001 - a sandbox bug must still answer in JSON
            if sb.verbose:
                traceback.print_exc()
            status, payload = 500, error_body(500, f"sandbox error: {type(exc).__name__}: {exc}")
        if lost is not None:
            if lost.seconds:
                time.sleep(lost.seconds)
            with sb._lock:
                sb._lost_answers += 1
            self._reset_connection()
            return
        self._send(status, payload, headers, truncate=truncate)
