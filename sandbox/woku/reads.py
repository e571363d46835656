"""Woku's read endpoints: surveys and their tools, wokus and reviews, forms, flows.

A mixin of ``WokuSandboxServer`` (one module per group of routes keeps each file small);
every list answers the API's ``{"data", "total", "page", "limit"}`` envelope.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from sandbox.base import Request
from sandbox.base.stats import Stats
from sandbox.woku.data import ApiError, Record, WokuCompany, is_object_id
from sandbox.woku.params import INT, bool_param, date_param, object_id

SPEC_MAX_LIMIT = 100  # the spec's declared maximum where it declares one (external trackers, search)
_SURVEY_LABEL = {"nps": "NPS", "csat": "CSAT", "ces": "CES"}


class WokuReads:
    """Paging and lookups shared by all Woku routes, plus the read-only handlers."""

    company: WokuCompany
    default_limit: int
    max_limit: int
    counters: Stats
    _bool = staticmethod(bool_param)
    _date = staticmethod(date_param)
    _object_id = staticmethod(object_id)

    def _paging(self, query: dict[str, str], *, spec_max: bool = False) -> tuple[int, int]:
        errors: list[str] = []
        values: dict[str, int] = {}
        for name, default in (("page", 1), ("limit", self.default_limit)):
            raw = query.get(name, "")
            if raw == "":
                values[name] = default
            elif INT.match(raw.strip()):
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
        req: Request,
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

    def _health(self, req: Request) -> tuple[int, Any]:
        return 200, {"status": "ok"}

    def _list_survey(self, survey: str, req: Request) -> tuple[int, Any]:
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

    def _get_survey(self, survey: str, req: Request) -> tuple[int, Any]:
        rid = self._object_id(req, "id")
        rec = self.company.get(f"{survey}_responses", rid)
        if rec is None:
            raise ApiError(404, f"{_SURVEY_LABEL[survey]} not found")
        return 200, rec

    def _list(self, kind: str, req: Request) -> tuple[int, Any]:
        return self._envelope(kind, req)

    def _list_children(self, parent_kind: str, label: str, kind: str, req: Request) -> tuple[int, Any]:
        """A parent's records (a woku's reviews, a form's responses); 403/404 for a foreign or unknown parent."""
        rid = self._object_id(req, "id")
        self._require(parent_kind, rid, label)
        return self._envelope(kind, req, parent=rid)

    def _get_tool(self, survey: str, req: Request) -> tuple[int, Any]:
        rid = self._object_id(req, "id")
        rec = self.company.get(f"{survey}_tools", rid)
        if rec is None:
            raise ApiError(403, "Tool does not belong to caller")  # the spec documents 403 only here
        return 200, rec

    def _get_woku(self, req: Request) -> tuple[int, Any]:
        rid = self._object_id(req, "id")
        woku = self._require("wokus", rid, "Woku")
        _, reviews = self.company.page("woku_reviews", 0, 1 << 62, parent=rid)
        voice = sum(r["type"] == "voice" for r in reviews)
        avg = round(sum(r["qualification"] for r in reviews) / len(reviews), 2) if reviews else None
        stats = {"reviews": len(reviews), "textReviews": len(reviews) - voice, "voiceReviews": voice}
        return 200, {**woku, "stats": {**stats, "averageQualification": avg}}

    def _get_form(self, req: Request) -> tuple[int, Any]:
        form = self._require("forms", self._object_id(req, "id"), "Form")
        if not form["active"]:
            raise ApiError(404, "Form not found or inactive")
        return 200, form

    def _get_flow(self, req: Request) -> tuple[int, Any]:
        flow = self._require("flows", self._object_id(req, "id"), "Flow")
        wokus = [w for w in (self.company.get("wokus", wid) for wid in flow["wokuIds"]) if w is not None]
        nps = self.company.get("nps_tools", flow["npsToolId"]) if flow["npsToolId"] else None
        return 200, {**flow, "wokus": wokus, "npsTool": nps}
