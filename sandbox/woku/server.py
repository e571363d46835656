"""Loopback HTTP server that mimics the Woku Client API on top of a ``WokuCompany``.

It serves the read endpoints a connector syncs from, the external-tracker write-back and the
voicemail upload (v0 ``/wokus/create-voicemail`` and its v1 alias), with the API's validation
(NestJS-style ``{"statusCode", "message", "error"}`` bodies), bearer API-key auth, page/limit
envelopes, optional rate limiting and injectable faults. That includes ``lost_answer``: the
request is processed, then the connection drops before the answer. Unauthenticated
``/_sandbox/*`` admin endpoints let a pipeline running in a subprocess be checked and steered.
The HTTP plumbing lives in ``sandbox.base``; the handlers in ``reads``, ``trackers`` and ``voicemails``.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from functools import partial
from typing import Any, Unpack

from sandbox.base import Fault, FaultQueue, Reply, Request, Route, SandboxBase, ServerSettings
from sandbox.base.forms import FilePart, parse_multipart
from sandbox.woku.data import KINDS, SURVEYS, WokuCompany
from sandbox.woku.params import REASONS, error_body
from sandbox.woku.reads import SPEC_MAX_LIMIT
from sandbox.woku.trackers import IDEMPOTENCY_HEADER, WokuTrackers
from sandbox.woku.voicemails import WokuVoicemails, is_audio

__all__ = [
    "FAULT_KINDS",
    "IDEMPOTENCY_HEADER",
    "SPEC_MAX_LIMIT",
    "FilePart",
    "WokuSandboxServer",
    "error_body",
    "is_audio",
    "parse_multipart",
]

FAULT_KINDS = frozenset({"500", "502", "503", "504", "429", "401", "reset", "slow", "truncated", "lost_answer"})
_STATS: dict[str, Any] = {
    "requests": int,
    "by_path": Counter,
    "by_route": Counter,
    "status_counts": Counter,
    "rate_limited": int,
    "faults": Counter,
    "lost_answers": int,
    "idempotent_replays": int,
    "voicemails_created": Counter,
    "tracker_assignments": Counter,
    "trackers_created": Counter,
}
_BAD_KEY = "Invalid or missing API key"
_THROTTLED = "ThrottlerException: Too Many Requests"


class WokuSandboxServer(WokuTrackers, WokuVoicemails, SandboxBase):
    """Threaded Woku Client API look-alike; ``start()`` binds 127.0.0.1 on a free port by default.

    ``max_limit`` caps ``limit`` on lists whose spec declares no maximum (the envelope echoes the
    effective limit); lists with a declared maximum (external trackers) answer 400 above it.
    ``auth_error_status`` is 401 by default (the spec documents 403 "Invalid or missing API key"
    on some routes; pass 403 to get that).
    """

    name = "woku"
    server_version = "WokuSandbox/1.0"
    methods = ("GET", "POST", "PATCH", "PUT", "DELETE")
    truncate_unprocessed = False  # 404/429/auth answers come whole even under a ``truncated`` fault

    def __init__(
        self,
        company: WokuCompany,
        *,
        max_audio_bytes: int = 25 * 1024 * 1024,
        default_limit: int = 20,
        max_limit: int = 100,
        retry_after: int = 1,
        auth_error_status: int = 401,
        **settings: Unpack[ServerSettings],
    ) -> None:
        self.company = company
        self.default_limit, self.max_limit = default_limit, max_limit
        self.retry_after = retry_after
        self.max_audio_bytes = max_audio_bytes
        self.auth_error_status = auth_error_status
        self._idempotency_lock = threading.Lock()
        self._idempotency = {}
        self._request_seq = itertools.count(1)
        super().__init__(
            routes=self._build_routes(),
            faults=FaultQueue(FAULT_KINDS, default_prefix="/"),
            stats=_STATS,
            admin_routes=[
                Route("GET", "/_sandbox/info", self._admin_info),
                Route("GET", "/_sandbox/voicemails", self._admin_voicemails),
            ],
            **settings,
        )

    @property
    def api_key(self) -> str:
        return self.company.api_key

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
        self.faults.add(kind, path_prefix, times, seconds=seconds, method=method, every=every)

    def voicemail_count(self, woku_id: str, sha256: str) -> int:
        """Voicemails accepted for (woku, file content) since the last ``reset_stats``."""
        return self.counters.get("voicemails_created", f"{woku_id}:{sha256}")

    # ------------------------------------------------------------------ pipeline hooks
    def begin(self, req: Request) -> None:
        """Count by path and by route template; every answer carries a fresh ``X-Request-Id``."""
        super().begin(req)
        route = req.route.template if req.route else req.path
        self.counters.bump("by_route", f"{req.method} {route}")
        req.reply_headers["X-Request-Id"] = f"req_{next(self._request_seq):08d}"

    def path_key(self, req: Request) -> str:
        return f"{req.method} {req.path}"

    def fault_reply(self, req: Request, fault: Fault) -> Reply:
        if fault.kind == "429":
            return self._throttled(int(fault.seconds) if fault.seconds is not None else self.retry_after)
        code = int(fault.kind)
        return Reply(code, error_body(code, _BAD_KEY if code == 401 else REASONS[code]))

    def answer(self, req: Request) -> Reply:
        """Unknown route 404, then the rate limit, then the API key (like NestJS's guards), then the handler."""
        if req.route is None:
            return Reply(404, error_body(404, f"Cannot {req.method} {req.path}"))
        decision = self.rate.consume()
        if decision is not None and not decision.allowed:
            return self._throttled(decision.retry_after)
        if req.route.auth and not self._authorized(req.headers.get("Authorization")):
            return Reply(self.auth_error_status, error_body(self.auth_error_status, _BAD_KEY))
        return self.run(req)

    def error_payload(self, status: int, message: str | list[str]) -> Any:
        return error_body(status, message)

    def truth(self, kind: str) -> Any:
        return self.company.truth(kind, iso=True) if kind in KINDS else None

    def _throttled(self, wait: int) -> Reply:
        return Reply(429, {**error_body(429, _THROTTLED), "retryAfter": wait}, {"Retry-After": str(wait)})

    def _authorized(self, header: str | None) -> bool:
        scheme, _, key = (header or "").strip().partition(" ")
        return scheme.lower() == "bearer" and key.strip() == self.company.api_key

    def _build_routes(self) -> list[Route]:
        table = [Route("GET", "/v1/health", self._health, auth=False)]
        for s in SURVEYS:
            table += [
                Route("GET", f"/v1/{s}", partial(self._list_survey, s)),
                Route("GET", f"/v1/{s}-tools", partial(self._list, f"{s}_tools")),
                Route("GET", f"/v1/{s}-tool/{{id}}", partial(self._get_tool, s)),
                Route("GET", f"/v1/{s}/{{id}}", partial(self._get_survey, s)),
            ]
        table += [
            Route("GET", "/v1/wokus", partial(self._list, "wokus")),
            Route("GET", "/v1/wokus/{id}", self._get_woku),
            Route("GET", "/v1/wokus/{id}/reviews", partial(self._list_children, "wokus", "Woku", "woku_reviews")),
            Route("POST", "/v1/wokus/{wokuId}/voicemails", self._voicemail_v1),
            Route("POST", "/wokus/create-voicemail", self._voicemail_v0),
            Route("GET", "/v1/forms", partial(self._list, "forms")),
            Route("GET", "/v1/forms/{id}", self._get_form),
            Route("GET", "/v1/forms/{id}/responses", partial(self._list_children, "forms", "Form", "form_responses")),
            Route("GET", "/v1/flows", partial(self._list, "flows")),
            Route("GET", "/v1/flows/{id}", self._get_flow),
            Route("GET", "/v1/external-trackers", self._list_trackers),
            Route("POST", "/v1/external-trackers", self._create_tracker),
            Route("GET", "/v1/external-trackers/search", self._search_trackers),
            Route("GET", "/v1/external-trackers/wokus/{wokuId}", self._list_woku_values),
            Route("POST", "/v1/external-trackers/wokus/{wokuId}", self._assign_woku),
            Route("PATCH", "/v1/external-trackers/{id}/activate", partial(self._set_active, True)),
            Route("PATCH", "/v1/external-trackers/{id}/deactivate", partial(self._set_active, False)),
            Route("GET", "/v1/external-trackers/{entityType}/{id}", self._list_entity_values),
            Route("POST", "/v1/external-trackers/{entityType}/{id}", self._assign_entity),
            Route("GET", "/v1/external-trackers/{id}", self._get_tracker),
        ]
        return table

    # ------------------------------------------------------------------ admin
    def _admin_info(self, req: Request, data: Any) -> tuple[int, Any]:
        co = self.company
        counts = {k: co.count(k) for k in KINDS}
        info = {"api_key": co.api_key, "company_id": co.company_id, "counts": counts, "foreign_ids": co.foreign_ids}
        return 200, info

    def _admin_voicemails(self, req: Request, data: Any) -> tuple[int, Any]:
        query = req.query
        return 200, self.company.voicemails_for(query.get("wokuId") or None, query.get("sha256") or None)

    def mutate(self, data: dict[str, Any]) -> dict[str, list[str]]:
        """Apply additions and edits; returns the touched ids per key.

        ``{"at": epoch|ISO, "add_nps_responses": n, "add_csat_responses": n, "add_ces_responses": n,
        "add_woku_reviews": n | {"n", "wokuId", "voice"}, "add_form_responses": n | {"n", "formId"},
        "update": {"kind", "ids", "fields"} | [...], "delete": {"kind", "ids"} | [...]}``
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
        deletes = data.get("delete") or []
        for spec in [deletes] if isinstance(deletes, dict) else deletes:
            out.setdefault(f"delete_{spec['kind']}", []).extend(co.delete_records(spec["kind"], list(spec["ids"])))
        return out
