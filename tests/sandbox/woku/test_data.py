"""Tests of the Woku sandbox's data model (``sandbox/woku/data.py``): generation, dates, truth."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sandbox.woku import WokuCompany, generate_company
from sandbox.woku.data import iso_ms, parse_js_date, to_ms
from tests.sandbox.woku.support import GEN, ISO_MS, OID


def test_generation_is_deterministic_and_shaped_like_the_api(company: WokuCompany) -> None:
    again = generate_company(11, **GEN)  # type: ignore[arg-type]
    counts = {k: company.count(k) for k in ("nps_responses", "woku_reviews", "external_tracker_definitions")}
    assert counts == {"nps_responses": 1234, "woku_reviews": 700, "external_tracker_definitions": 8}
    all_ids: list[str] = []
    for kind in ("nps_responses", "woku_reviews", "form_responses", "flows", "external_tracker_values", "clients"):
        assert again.truth(kind) == company.truth(kind), kind
    for kind in ("nps_tools", "nps_responses", "csat_responses", "wokus", "woku_reviews", "forms", "flows"):
        recs = company.truth(kind, iso=True)
        all_ids += [r["_id"] for r in recs]
        for r in recs:
            assert OID.match(r["_id"]) and ISO_MS.match(r["createdAt"]) and ISO_MS.match(r["updatedAt"])
            assert r["updatedAt"] >= r["createdAt"]
            # a MongoDB ObjectId starts with its creation second
            assert int(r["_id"][:8], 16) == to_ms(r["createdAt"]) // 1000  # type: ignore[operator]
    assert len(all_ids) == len(set(all_ids))
    parsed = company.truth("nps_responses")[0]["createdAt"]
    assert isinstance(parsed, datetime) and parsed.tzinfo is not None
    nps = company.truth("nps_responses")
    assert all(0 <= r["score"] <= 10 for r in nps) and {r["score"] for r in nps} == set(range(11))
    assert all(1 <= r["score"] <= 5 for r in company.truth("csat_responses"))
    assert any(r["npsToolId"] is None for r in nps)  # company-level NPS
    assert any(r["updatedAt"] > r["createdAt"] for r in nps)  # late edits exist
    assert {r["type"] for r in company.truth("woku_reviews")} == {"text", "voice"}
    defs = company.truth("external_tracker_definitions")
    assert sum(not d["active"] for d in defs) == 3
    assert "@" not in json.dumps(company.truth("nps_responses", iso=True))  # no contact data, only clientId


def test_parse_js_date() -> None:
    assert parse_js_date("2024-03-01") == to_ms("2024-03-01T00:00:00Z")
    assert parse_js_date("2024-03-01T10:00:00+02:00") == to_ms("2024-03-01T08:00:00Z")
    assert parse_js_date("2024-03-01T10:00:00.1234Z") == to_ms("2024-03-01T10:00:00Z") + 123  # type: ignore[operator]
    assert parse_js_date("2024-03-01T10:00") == to_ms("2024-03-01T10:00:00Z")
    assert parse_js_date("2024-03") == to_ms("2024-03-01T00:00:00Z")
    for bad in ("yesterday", "2024-13-01", "2024-02-30", "1700000000", "2024-03-01T25:00:00Z", ""):
        assert parse_js_date(bad) is None, bad
    assert iso_ms(0) == "1970-01-01T00:00:00.000Z"


def test_truth_datetimes_are_utc(company: WokuCompany) -> None:
    rec = company.truth("woku_reviews")[0]
    assert rec["createdAt"].tzinfo is not None and rec["createdAt"].utcoffset().total_seconds() == 0
    assert rec["createdAt"] >= datetime(2024, 1, 1, tzinfo=UTC)
