"""Woku's external trackers: definitions (create, list, activate) and values (assign, search).

Creation honours ``X-Woku-Idempotency-Key`` (a retried create replays the first answer) and
assignment is an upsert by tracker name: what a write-back connector relies on.
"""

from __future__ import annotations

import threading
from typing import Any

from sandbox.base import Request
from sandbox.woku.data import ENTITY_TYPES, ApiError
from sandbox.woku.params import error_body, json_object, string_rule
from sandbox.woku.reads import WokuReads

IDEMPOTENCY_HEADER = "X-Woku-Idempotency-Key"


class WokuTrackers(WokuReads):
    """External tracker handlers; ``_idempotency`` maps a key to the first answer given for it."""

    _idempotency_lock: threading.Lock
    _idempotency: dict[str, tuple[int, Any]]

    def _list_trackers(self, req: Request) -> tuple[int, Any]:
        include_inactive = self._bool(req.query, "includeInactive") or False
        include_usage = self._bool(req.query, "includeUsage") or False
        decorate = (lambda r: {**r, "usageCount": self.company.usage_count(r["_id"])}) if include_usage else None
        where = None if include_inactive else (lambda r: bool(r["active"]))
        return self._envelope(
            "external_tracker_definitions", req, spec_max=True, where=where, where_key="active", decorate=decorate
        )

    def _get_tracker(self, req: Request) -> tuple[int, Any]:
        rec = self.company.get("external_tracker_definitions", self._object_id(req, "id"))
        if rec is None:
            raise ApiError(404, "Tracker not found")
        return 200, rec

    def _set_active(self, active: bool, req: Request) -> tuple[int, Any]:
        return 200, self.company.set_tracker_active(self._object_id(req, "id"), active)

    def _create_tracker(self, req: Request) -> tuple[int, Any]:
        """Create a definition; a repeated ``X-Woku-Idempotency-Key`` replays the first answer."""
        key = (req.headers.get(IDEMPOTENCY_HEADER) or "").strip()
        with self._idempotency_lock:  # serializes creates, so two racing retries cannot both create
            if key and key in self._idempotency:
                self.counters.add("idempotent_replays")
                return self._idempotency[key]
            body = json_object(req)
            errors: list[str] = []
            name = string_rule(errors, body, "name", 60, required=True)
            system = string_rule(errors, body, "system", 80, required=False)
            if body.get("system") is None:
                errors.append("system must be a string")
            description = string_rule(errors, body, "description", 500, required=False)
            if errors:
                raise ApiError(400, errors)
            try:
                rec = self.company.create_tracker(name, system, description)
                result: tuple[int, Any] = (201, rec)
                self.counters.bump("trackers_created", name)
            except ApiError as exc:
                result = (exc.status, error_body(exc.status, exc.message))
            if key:
                self._idempotency[key] = result
            return result

    def _search_trackers(self, req: Request) -> tuple[int, Any]:
        errors: list[str] = []
        name = string_rule(errors, req.query, "name", 60, required=True)
        value = string_rule(errors, req.query, "value", 500, required=True)
        if errors:
            raise ApiError(400, errors)
        page, limit = self._paging(req.query, spec_max=True)
        hits = self.company.search_woku_values(name, value)
        return 200, {"data": hits[(page - 1) * limit : page * limit], "total": len(hits), "page": page, "limit": limit}

    def _entity_type(self, req: Request) -> str:
        entity_type = req.params["entityType"]
        if entity_type not in ENTITY_TYPES:
            raise ApiError(400, f"Unsupported entity type: {entity_type}")
        return entity_type

    def _list_entity_values(self, req: Request) -> tuple[int, Any]:
        entity_type = self._entity_type(req)
        return 200, self.company.tracker_values(entity_type, self._object_id(req, "id"))

    def _list_woku_values(self, req: Request) -> tuple[int, Any]:
        return 200, self.company.tracker_values("woku", self._object_id(req, "wokuId"))

    def _assign(self, entity_type: str, entity_id: str, req: Request) -> tuple[int, Any]:
        body = json_object(req)
        errors: list[str] = []
        name = string_rule(errors, body, "name", 60, required=True)
        value = string_rule(errors, body, "value", 500, required=True)
        if errors:
            raise ApiError(400, errors)
        rec, _created = self.company.assign_tracker(entity_type, entity_id, name, value)
        self.counters.bump("tracker_assignments", f"{entity_type}:{entity_id}:{name}")
        return 201, rec

    def _assign_entity(self, req: Request) -> tuple[int, Any]:
        entity_type = self._entity_type(req)
        return self._assign(entity_type, self._object_id(req, "id"), req)

    def _assign_woku(self, req: Request) -> tuple[int, Any]:
        return self._assign("woku", self._object_id(req, "wokuId"), req)
