"""Helpers the Woku sandbox tests share: the generated company's sizes, record patterns, paging and
voicemail forms.
"""

from __future__ import annotations

import re
from typing import Any

import requests

from sandbox.woku import WokuSandboxServer
from tests.sandbox.support import bearer_session

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
OID = re.compile(r"^[0-9a-f]{24}$")
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(256)) * 4
GEN = {
    "nps_responses": 1234,
    "csat_responses": 345,
    "ces_responses": 210,
    "wokus": 9,
    "reviews": 700,
    "forms": 4,
    "form_responses": 260,
    "trackers": 8,
    "inactive_trackers": 3,
    "tracker_values": 70,
}


def session(srv: WokuSandboxServer) -> requests.Session:
    return bearer_session(srv.api_key)


def fetch_all(api: requests.Session, url: str, params: dict[str, Any] | None = None, limit: int = 37) -> list[Any]:
    """Page until the envelope's total is reached, checking the envelope on every page."""
    out: list[Any] = []
    page = 1
    while True:
        r = api.get(url, params={**(params or {}), "page": page, "limit": limit})
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == {"data", "total", "page", "limit"}
        assert body["page"] == page and body["limit"] == limit
        out.extend(body["data"])
        if page * limit >= body["total"]:
            break
        assert len(body["data"]) == limit
        page += 1
    assert len(out) == body["total"]
    return out


def newest_first(recs: list[dict[str, Any]]) -> list[str]:
    return [r["_id"] for r in sorted(recs, key=lambda r: (r["createdAt"], r["_id"]), reverse=True)]


def voicemail_form(woku_id: str | None = None, **fields: Any) -> dict[str, Any]:
    """A requests ``files=`` mapping like ``curl -F``; pass ``file=None`` to omit the file."""
    form: dict[str, Any] = {"file": ("review.wav", WAV, "audio/wav"), "qualification": "5"}
    if woku_id is not None:
        form["wokuId"] = woku_id
    form.update(fields)
    return {k: v if isinstance(v, tuple) else (None, v) for k, v in form.items() if v is not None}
