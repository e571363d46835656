"""Tests of the Woku sandbox itself, over real loopback HTTP.

The Woku end-to-end tests trust this server as the API's stand-in, so its envelopes, paging,
filters, validation, upsert and idempotency semantics, voicemail upload, faults (above all
``lost_answer``) and counters are pinned down here.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from sandbox.woku import WokuCompany, WokuSandboxServer, generate_company
from sandbox.woku.data import iso_ms, parse_js_date, sha256_hex, to_ms
from tests.sandbox.support import bearer_session, sandbox_process

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
LISTS = [
    ("/v1/nps", "nps_responses", {}),
    ("/v1/csat", "csat_responses", {}),
    ("/v1/ces", "ces_responses", {}),
    ("/v1/nps-tools", "nps_tools", {}),
    ("/v1/csat-tools", "csat_tools", {}),
    ("/v1/ces-tools", "ces_tools", {}),
    ("/v1/wokus", "wokus", {}),
    ("/v1/forms", "forms", {}),
    ("/v1/flows", "flows", {}),
    ("/v1/external-trackers", "external_tracker_definitions", {"includeInactive": "true"}),
]


@pytest.fixture(scope="module")
def company() -> WokuCompany:
    return generate_company(11, **GEN)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def server(company: WokuCompany) -> Iterator[WokuSandboxServer]:
    with WokuSandboxServer(company) as srv:
        yield srv


@pytest.fixture()
def api(server: WokuSandboxServer) -> Iterator[requests.Session]:
    server.clear_faults()
    s = bearer_session(server.api_key)
    yield s
    s.close()


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


# ---------------------------------------------------------------------- data model
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


# ---------------------------------------------------------------------- auth and routing
def test_auth_rejects_missing_or_wrong_key(server: WokuSandboxServer) -> None:
    url = f"{server.url}/v1/nps"
    expected = {"statusCode": 401, "message": "Invalid or missing API key", "error": "Unauthorized"}
    r = requests.get(url)
    assert r.status_code == 401 and r.json() == expected
    for header in ("Bearer nope", f"Basic {server.api_key}", server.api_key, "Bearer"):
        assert requests.get(url, headers={"Authorization": header}).status_code == 401, header
    assert requests.post(f"{server.url}/wokus/create-voicemail", files=voicemail_form("a" * 24)).status_code == 401
    assert requests.get(url, headers={"Authorization": f"bearer {server.api_key}"}).status_code == 200
    assert requests.get(f"{server.url}/v1/health").json() == {"status": "ok"}  # no auth
    r = requests.get(f"{server.url}/v1/nope")
    assert r.status_code == 404 and r.json()["message"] == "Cannot GET /v1/nope"
    assert requests.delete(url).status_code == 404  # NestJS: unknown method+path is a 404


def test_auth_error_status_can_follow_the_spec_403() -> None:
    with WokuSandboxServer(generate_company(1, nps_responses=5), auth_error_status=403) as srv:
        r = requests.get(f"{srv.url}/v1/nps", headers={"Authorization": "Bearer wrong"})
        assert r.status_code == 403 and r.json()["error"] == "Forbidden"


# ---------------------------------------------------------------------- list endpoints
@pytest.mark.parametrize(("path", "kind", "params"), LISTS, ids=[p for p, _, _ in LISTS])
def test_list_pages_to_exact_truth(
    api: requests.Session, server: WokuSandboxServer, company: WokuCompany, path: str, kind: str, params: dict[str, str]
) -> None:
    got = fetch_all(api, f"{server.url}{path}", params)
    truth = company.truth(kind, iso=True)
    ids = [r["_id"] for r in got]
    assert len(ids) == len(set(ids)) == len(truth)
    assert ids == newest_first(truth)  # most recent first, ties by _id
    assert got[0] == next(t for t in truth if t["_id"] == ids[0])


def test_nested_lists_page_to_exact_truth(
    api: requests.Session, server: WokuSandboxServer, company: WokuCompany
) -> None:
    reviews: list[dict[str, Any]] = []
    for woku_id in company.ids("wokus"):
        got = fetch_all(api, f"{server.url}/v1/wokus/{woku_id}/reviews", limit=23)
        assert {r["wokuId"] for r in got} <= {woku_id}
        assert [r["_id"] for r in got] == newest_first(got)
        reviews += got
    assert sorted(r["_id"] for r in reviews) == sorted(company.ids("woku_reviews"))
    voice = [r for r in reviews if r["type"] == "voice"]
    assert voice and all(r["transcription"] and r["file"]["type"] == "audio" for r in voice)
    assert all("clientEmail" not in r and OID.match(r["clientId"]) for r in reviews)
    answers = []
    for form_id in company.ids("forms"):
        answers += fetch_all(api, f"{server.url}/v1/forms/{form_id}/responses", limit=50)
    assert sorted(r["_id"] for r in answers) == sorted(company.ids("form_responses"))


def test_paging_rules(api: requests.Session, server: WokuSandboxServer, company: WokuCompany) -> None:
    url = f"{server.url}/v1/nps"
    body = api.get(url).json()
    assert (body["page"], body["limit"], len(body["data"]), body["total"]) == (1, 20, 20, 1234)
    body = api.get(url, params={"limit": 500}).json()  # no declared maximum: capped, the envelope says so
    assert body["limit"] == 100 and len(body["data"]) == 100
    body = api.get(url, params={"page": 99, "limit": 100}).json()
    assert body["data"] == [] and body["total"] == 1234
    last = api.get(url, params={"page": 13, "limit": 100}).json()
    assert len(last["data"]) == 34
    for params, message in (
        ({"page": 0}, "page must not be less than 1"),
        ({"limit": 0}, "limit must not be less than 1"),
        ({"page": "abc"}, "page must be an integer number"),
        ({"limit": "2.5"}, "limit must be an integer number"),
    ):
        r = api.get(url, params=params)
        assert r.status_code == 400 and message in r.json()["message"], params
        assert r.json()["error"] == "Bad Request"
    trackers = f"{server.url}/v1/external-trackers"
    r = api.get(trackers, params={"limit": 101})  # the spec declares limit [1..100] here
    assert r.status_code == 400 and r.json()["message"] == ["limit must not be greater than 100"]
    assert api.get(trackers, params={"limit": 100}).status_code == 200


def test_from_to_are_inclusive_on_created_at(
    api: requests.Session, server: WokuSandboxServer, company: WokuCompany
) -> None:
    truth = company.truth("nps_responses", iso=True)
    ordered = sorted(truth, key=lambda r: (r["createdAt"], r["_id"]))
    lo, hi = ordered[100]["createdAt"], ordered[700]["createdAt"]

    def ids(params: dict[str, str]) -> list[str]:
        return [r["_id"] for r in fetch_all(api, f"{server.url}/v1/nps", params, limit=100)]

    assert ids({"from": lo, "to": hi}) == newest_first([r for r in truth if lo <= r["createdAt"] <= hi])
    assert ids({"from": lo}) == newest_first([r for r in truth if r["createdAt"] >= lo])
    assert ids({"to": hi}) == newest_first([r for r in truth if r["createdAt"] <= hi])
    # a date-only bound is UTC midnight, as in JavaScript: to=2024-03-01 excludes the rest of that day
    got = ids({"to": "2024-03-01"})
    assert got == newest_first([r for r in truth if r["createdAt"] <= "2024-03-01T00:00:00.000Z"])
    assert ids({"from": "2024-03-01T00:00:00+03:00", "to": "2024-03-01T23:59:59.999Z"}) == newest_first(
        [r for r in truth if "2024-02-29T21:00:00.000Z" <= r["createdAt"] <= "2024-03-01T23:59:59.999Z"]
    )
    assert ids({"from": hi, "to": lo}) == []
    r = api.get(f"{server.url}/v1/nps", params={"from": "last week"})
    assert r.status_code == 400 and r.json()["message"] == ["from must be a valid ISO 8601 date string"]
    csat = company.truth("csat_responses", iso=True)
    got = [r["_id"] for r in fetch_all(api, f"{server.url}/v1/csat", {"from": "2024-06-01"}, limit=100)]
    assert got == newest_first([r for r in csat if r["createdAt"] >= "2024-06-01"])


def test_survey_filters(api: requests.Session, server: WokuSandboxServer, company: WokuCompany) -> None:
    truth = company.truth("nps_responses", iso=True)
    got = fetch_all(api, f"{server.url}/v1/nps", {"withFeedback": "true"}, limit=100)
    want = [r for r in truth if r["textnote"] or r["voicemail"]]
    assert 0 < len(got) < len(truth) and [r["_id"] for r in got] == newest_first(want)
    assert len(fetch_all(api, f"{server.url}/v1/nps", {"withFeedback": "false"}, limit=100)) == len(truth)
    tool = company.ids("nps_tools")[0]
    got = fetch_all(api, f"{server.url}/v1/nps", {"npsToolId": tool, "withFeedback": "true"}, limit=100)
    assert [r["_id"] for r in got] == newest_first([r for r in want if r["npsToolId"] == tool])
    r = api.get(f"{server.url}/v1/nps", params={"npsToolId": company.foreign_ids["nps_tools"][0]})
    assert r.status_code == 403
    assert api.get(f"{server.url}/v1/nps", params={"npsToolId": "x"}).status_code == 400
    assert api.get(f"{server.url}/v1/nps", params={"withFeedback": "maybe"}).status_code == 400
    ces_tool = company.ids("ces_tools")[1]
    got = fetch_all(api, f"{server.url}/v1/ces", {"cesToolId": ces_tool})
    assert got and {r["cesToolId"] for r in got} == {ces_tool}


def test_single_resources(api: requests.Session, server: WokuSandboxServer, company: WokuCompany) -> None:
    nps = company.truth("nps_responses", iso=True)[5]
    assert api.get(f"{server.url}/v1/nps/{nps['_id']}").json() == nps
    assert api.get(f"{server.url}/v1/nps/{'0' * 24}").status_code == 404
    r = api.get(f"{server.url}/v1/nps/not-an-id")
    assert r.status_code == 400 and r.json()["message"] == "Validation failed (ObjectId is expected)"
    woku_id = company.ids("wokus")[0]
    woku = api.get(f"{server.url}/v1/wokus/{woku_id}").json()
    n_reviews = sum(r["wokuId"] == woku_id for r in company.truth("woku_reviews"))
    assert woku["stats"]["reviews"] == n_reviews and woku["_id"] == woku_id
    assert api.get(f"{server.url}/v1/wokus/{company.foreign_ids['wokus'][0]}").status_code == 403
    assert api.get(f"{server.url}/v1/wokus/{company.foreign_ids['wokus'][0]}/reviews").status_code == 403
    assert api.get(f"{server.url}/v1/wokus/{'f' * 24}/reviews").status_code == 404
    forms = company.truth("forms", iso=True)
    inactive = [f for f in forms if not f["active"]]
    assert len(inactive) == 1
    assert api.get(f"{server.url}/v1/forms/{inactive[0]['_id']}").status_code == 404
    assert api.get(f"{server.url}/v1/forms/{forms[0]['_id']}").json()["fields"] == forms[0]["fields"]
    flow = company.truth("flows", iso=True)[0]
    got = api.get(f"{server.url}/v1/flows/{flow['_id']}").json()
    assert [w["_id"] for w in got["wokus"]] == flow["wokuIds"]
    tool = company.truth("csat_tools", iso=True)[0]
    assert api.get(f"{server.url}/v1/csat-tool/{tool['_id']}").json() == tool
    definition = company.truth("external_tracker_definitions", iso=True)[0]
    assert api.get(f"{server.url}/v1/external-trackers/{definition['_id']}").json() == definition


# ---------------------------------------------------------------------- external trackers (reads)
def test_tracker_definitions_list(api: requests.Session, server: WokuSandboxServer, company: WokuCompany) -> None:
    url = f"{server.url}/v1/external-trackers"
    defs = company.truth("external_tracker_definitions", iso=True)
    active = fetch_all(api, url, limit=3)
    assert [d["_id"] for d in active] == newest_first([d for d in defs if d["active"]])
    usage = Counter(v["trackerId"] for v in company.truth("woku_tracker_values"))
    got = fetch_all(api, url, {"includeInactive": "true", "includeUsage": "true"})
    assert {d["_id"]: d["usageCount"] for d in got} == {d["_id"]: usage[d["_id"]] for d in defs}
    assert all("usageCount" not in d for d in active)


def test_tracker_values_per_entity(api: requests.Session, server: WokuSandboxServer, company: WokuCompany) -> None:
    values = company.truth("external_tracker_values", iso=True)
    by_entity: dict[tuple[str, str], list[str]] = {}
    for v in values:
        by_entity.setdefault((v["entityType"], v["entityId"]), []).append(v["_id"])
    assert {t for t, _ in by_entity} == {"nps", "csat", "ces", "form", "flow"}
    for (etype, eid), ids in by_entity.items():
        got = api.get(f"{server.url}/v1/external-trackers/{etype}/{eid}").json()
        assert isinstance(got, list) and sorted(v["_id"] for v in got) == sorted(ids)
    woku_values = company.truth("woku_tracker_values", iso=True)
    woku_id = woku_values[0]["wokuId"]
    got = api.get(f"{server.url}/v1/external-trackers/wokus/{woku_id}").json()
    assert sorted(v["_id"] for v in got) == sorted(v["_id"] for v in woku_values if v["wokuId"] == woku_id)
    assert set(got[0]) == {"_id", "companyId", "wokuId", "trackerId", "value", "createdAt", "updatedAt"}
    bare = [e for e in company.ids("flows") if ("flow", e) not in by_entity]
    if bare:
        assert api.get(f"{server.url}/v1/external-trackers/flow/{bare[0]}").json() == []
    base = f"{server.url}/v1/external-trackers"
    r = api.get(f"{base}/woku/{woku_id}")  # woku goes through the dedicated /wokus/ routes
    assert r.status_code == 400 and r.json()["message"] == "Unsupported entity type: woku"
    assert api.get(f"{base}/nps/123").status_code == 400
    assert api.get(f"{base}/nps/{'0' * 24}").status_code == 404
    assert api.get(f"{base}/nps/{company.foreign_ids['nps_tools'][0]}").status_code == 403
    assert api.get(f"{base}/wokus/{'0' * 24}").status_code == 404


# ---------------------------------------------------------------------- external trackers (writes)
@pytest.fixture()
def small() -> Iterator[tuple[WokuSandboxServer, requests.Session]]:
    """A fresh company per test for anything that writes."""
    co = generate_company(5, nps_responses=40, csat_responses=10, ces_responses=10, reviews=30, closed_wokus=1)
    with WokuSandboxServer(co) as srv:
        s = session(srv)
        yield srv, s
        s.close()


def test_assign_is_an_upsert_by_tracker_name(small: tuple[WokuSandboxServer, requests.Session]) -> None:
    srv, api = small
    co = srv.company
    tool = co.ids("nps_tools")[0]
    name = next(d["name"] for d in co.truth("external_tracker_definitions") if d["active"])
    url = f"{srv.url}/v1/external-trackers/nps/{tool}"
    before = [v for v in api.get(url).json() if v["trackerId"] == co.tracker_by_name(name)["_id"]]  # type: ignore[index]
    r1 = api.post(url, json={"name": name, "value": "TX-2026-00043"})
    assert r1.status_code == 201
    first = r1.json()
    assert set(first) == {"_id", "companyId", "entityType", "entityId", "trackerId", "value", "createdAt", "updatedAt"}
    assert (first["entityType"], first["entityId"], first["value"]) == ("nps", tool, "TX-2026-00043")
    assert first["companyId"] == co.company_id and ISO_MS.match(first["updatedAt"])
    r2 = api.post(url, json={"name": name, "value": "TX-2026-00044"})
    assert r2.status_code == 201
    second = r2.json()
    assert second["_id"] == first["_id"] and second["value"] == "TX-2026-00044"
    assert second["createdAt"] == first["createdAt"] and second["updatedAt"] > first["updatedAt"]
    if before:
        assert first["_id"] == before[0]["_id"]  # an existing value is overwritten, not duplicated
    mine = [v for v in api.get(url).json() if v["trackerId"] == first["trackerId"]]
    assert [v["value"] for v in mine] == ["TX-2026-00044"]
    r3 = api.post(url, json={"name": name, "value": "TX-2026-00044"})  # same value again: still 201, one row
    assert r3.status_code == 201 and r3.json()["_id"] == first["_id"]
    woku = co.ids("wokus")[2]
    r = api.post(f"{srv.url}/v1/external-trackers/wokus/{woku}", json={"name": name, "value": "D-1"})
    assert r.status_code == 201 and r.json()["wokuId"] == woku and "entityType" not in r.json()
    assert [v["value"] for v in co.tracker_values("woku", woku) if v["trackerId"] == first["trackerId"]] == ["D-1"]
    stats = srv.stats()["tracker_assignments"]
    assert stats == {f"nps:{tool}:{name}": 3, f"woku:{woku}:{name}": 1}
    search = api.get(f"{srv.url}/v1/external-trackers/search", params={"name": name, "value": "D-1"}).json()
    assert [v["wokuId"] for v in search["data"]] == [woku] and search["total"] == 1


INVALID_ASSIGN = [
    ("name 61 chars", {"name": "n" * 61, "value": "v"}, 400, "name must be shorter than or equal to 60 characters"),
    (
        "value 501 chars",
        {"name": "trr", "value": "v" * 501},
        400,
        "value must be shorter than or equal to 500 characters",
    ),
    ("empty name", {"name": "", "value": "v"}, 400, "name should not be empty"),
    ("empty value", {"name": "trr", "value": ""}, 400, "value should not be empty"),
    ("missing value", {"name": "trr"}, 400, "value must be a string"),
    ("numeric value", {"name": "trr", "value": 42}, 400, "value must be a string"),
    ("unknown tracker", {"name": "no_such_tracker", "value": "v"}, 404, "Tracker 'no_such_tracker' not found"),
]


@pytest.mark.parametrize(("case", "body", "status", "message"), INVALID_ASSIGN, ids=[c[0] for c in INVALID_ASSIGN])
def test_assign_validation(
    small: tuple[WokuSandboxServer, requests.Session], case: str, body: dict[str, Any], status: int, message: str
) -> None:
    srv, api = small
    tool = srv.company.ids("csat_tools")[0]
    before = srv.company.truth("external_tracker_values")
    r = api.post(f"{srv.url}/v1/external-trackers/csat/{tool}", json=body)
    assert r.status_code == status, r.text
    got = r.json()["message"]
    assert message in (got if isinstance(got, list) else [got])
    assert srv.company.truth("external_tracker_values") == before
    assert srv.stats()["tracker_assignments"] == {}


def test_assign_entity_errors(small: tuple[WokuSandboxServer, requests.Session]) -> None:
    srv, api = small
    co = srv.company
    base = f"{srv.url}/v1/external-trackers"
    ok = {"name": "trr", "value": "X"}
    r = api.post(f"{base}/nps/12345", json=ok)
    assert r.status_code == 400 and r.json()["message"] == "Validation failed (ObjectId is expected)"
    assert api.post(f"{base}/wokus/zzzzzzzzzzzzzzzzzzzzzzzz", json=ok).status_code == 400
    assert api.post(f"{base}/survey/{co.ids('nps_tools')[0]}", json=ok).status_code == 400
    assert api.post(f"{base}/nps/{'0' * 24}", json=ok).status_code == 404
    assert api.post(f"{base}/wokus/{'0' * 24}", json=ok).json()["message"] == "Woku not found"
    assert api.post(f"{base}/form/{co.foreign_ids['forms'][0]}", json=ok).status_code == 403
    inactive = next(d["name"] for d in co.truth("external_tracker_definitions") if not d["active"])
    r = api.post(f"{base}/flow/{co.ids('flows')[0]}", json={"name": inactive, "value": "X"})
    assert r.status_code == 400 and "inactive" in r.json()["message"][0]
    r = api.post(f"{base}/nps/{co.ids('nps_tools')[0]}", data="{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert srv.stats()["tracker_assignments"] == {}


def test_limits_are_inclusive(small: tuple[WokuSandboxServer, requests.Session]) -> None:
    srv, api = small
    name60 = "x" * 60
    r = api.post(f"{srv.url}/v1/external-trackers", json={"name": name60, "system": "s"})
    assert r.status_code == 201
    r = api.post(
        f"{srv.url}/v1/external-trackers/ces/{srv.company.ids('ces_tools')[0]}",
        json={"name": name60, "value": "v" * 500},
    )
    assert r.status_code == 201 and len(r.json()["value"]) == 500


def test_create_definition_idempotency_and_conflicts(small: tuple[WokuSandboxServer, requests.Session]) -> None:
    srv, api = small
    url = f"{srv.url}/v1/external-trackers"
    body = {"name": "deal_id", "system": "crm", "description": "CRM deal"}
    r1 = api.post(url, json=body, headers={"X-Woku-Idempotency-Key": "k-1"})
    assert r1.status_code == 201
    created = r1.json()
    assert set(created) == {"_id", "name", "system", "description", "active", "createdAt", "updatedAt"}
    assert created["active"] is True and OID.match(created["_id"])
    r2 = api.post(url, json=body, headers={"X-Woku-Idempotency-Key": "k-1"})
    assert r2.status_code == 201 and r2.json() == created  # the first answer, replayed
    r3 = api.post(url, json=body, headers={"X-Woku-Idempotency-Key": "k-2"})
    assert r3.status_code == 409
    assert r3.json() == {"statusCode": 409, "message": "Tracker name already in use", "error": "Conflict"}
    assert api.post(url, json=body, headers={"X-Woku-Idempotency-Key": "k-2"}).status_code == 409  # replayed too
    assert api.post(url, json=body).status_code == 409
    stats = srv.stats()
    assert stats["trackers_created"] == {"deal_id": 1} and stats["idempotent_replays"] == 2
    assert [d["name"] for d in srv.company.truth("external_tracker_definitions")].count("deal_id") == 1
    for bad, message in (
        ({"name": "n" * 61, "system": "s"}, "name must be shorter than or equal to 60 characters"),
        ({"name": "", "system": "s"}, "name should not be empty"),
        ({"name": "ok"}, "system must be a string"),
        ({"name": "ok", "system": "s" * 81}, "system must be shorter than or equal to 80 characters"),
        (
            {"name": "ok", "system": "s", "description": "d" * 501},
            "description must be shorter than or equal to 500 characters",
        ),
    ):
        r = api.post(url, json=bad)
        assert r.status_code == 400 and message in r.json()["message"], bad
    # a fresh definition is listed and assignable at once
    assert "deal_id" in [d["name"] for d in fetch_all(api, url)]
    r = api.post(f"{url}/nps/{srv.company.ids('nps_tools')[0]}", json={"name": "deal_id", "value": "D-7"})
    assert r.status_code == 201 and r.json()["trackerId"] == created["_id"]
    # deactivate: still listed with includeInactive, no longer assignable, values stay readable
    assert api.patch(f"{url}/{created['_id']}/deactivate").json()["active"] is False
    assert "deal_id" not in [d["name"] for d in fetch_all(api, url)]
    r = api.post(f"{url}/nps/{srv.company.ids('nps_tools')[0]}", json={"name": "deal_id", "value": "D-8"})
    assert r.status_code == 400
    assert api.patch(f"{url}/{created['_id']}/activate").json()["active"] is True


def test_lost_answer_on_create_then_idempotent_retry(small: tuple[WokuSandboxServer, requests.Session]) -> None:
    srv, api = small
    url = f"{srv.url}/v1/external-trackers"
    srv.inject("lost_answer", "/v1/external-trackers", method="POST")
    body = {"name": "order_ref", "system": "erp"}
    with pytest.raises(requests.ConnectionError):
        api.post(url, json=body, headers={"X-Woku-Idempotency-Key": "retry-me"})
    stored = srv.company.tracker_by_name("order_ref")
    assert stored is not None  # processed although no answer came back
    r = api.post(url, json=body, headers={"X-Woku-Idempotency-Key": "retry-me"})
    assert r.status_code == 201 and r.json()["_id"] == stored["_id"]
    stats = srv.stats()
    assert stats["trackers_created"] == {"order_ref": 1} and stats["lost_answers"] == 1
    assert stats["faults"] == {"lost_answer": 1}


# ---------------------------------------------------------------------- voicemails
def test_voicemail_create_matches_the_seed_and_lands_in_reviews(
    small: tuple[WokuSandboxServer, requests.Session],
) -> None:
    srv, api = small
    co = srv.company
    woku = co.ids("wokus")[-1]
    reviews_url = f"{srv.url}/v1/wokus/{woku}/reviews"
    total_before = api.get(reviews_url).json()["total"]
    form = voicemail_form(woku, qualification="4", clientEmail="pedro@empresa.com", clientPhone="56982959776")
    form["anonymous"] = (None, "false")
    r = api.post(f"{srv.url}/wokus/create-voicemail", files=form)
    assert r.status_code == 201, r.text
    answer = r.json()
    assert set(answer) == {"qualification", "wokuId", "anonymous", "transcription", "feedbackType", "file", "clientId"}
    assert set(answer["qualification"]) == {"_id", "qualification"} and answer["qualification"]["qualification"] == 4
    assert answer["wokuId"] == woku and answer["anonymous"] is False and answer["feedbackType"] == "recognition"
    assert answer["file"]["type"] == "audio" and answer["file"]["url"].startswith("https://")
    assert answer["transcription"] and OID.match(answer["clientId"])
    listed = api.get(reviews_url, params={"limit": 1}).json()
    assert listed["total"] == total_before + 1
    top = listed["data"][0]  # newest first
    assert (top["type"], top["qualification"], top["clientId"]) == ("voice", 4, answer["clientId"])
    assert top["file"] == answer["file"] and top["transcription"] == answer["transcription"]
    assert top["responseChannel"] == "api" and "clientEmail" not in top
    assert srv.voicemail_count(woku, sha256_hex(WAV)) == 1
    log = co.voicemails_for(woku_id=woku)
    assert [(v["sha256"], v["clientEmail"], v["filename"]) for v in log] == [
        (sha256_hex(WAV), "pedro@empresa.com", "review.wav")
    ]
    # same email -> same client; a different audio file -> a different (deterministic) record
    other = WAV + b"\x01"
    r = api.post(
        f"{srv.url}/wokus/create-voicemail",
        files=voicemail_form(
            woku, clientEmail="PEDRO@empresa.com", qualification="2", file=("b.wav", other, "audio/wav")
        ),
    )
    assert r.status_code == 201 and r.json()["clientId"] == answer["clientId"]
    assert r.json()["feedbackType"] == "improvement"
    anon = api.post(f"{srv.url}/wokus/create-voicemail", files=voicemail_form(woku, anonymous="true"))
    assert anon.status_code == 201 and anon.json()["anonymous"] is True
    assert anon.json()["clientId"] != answer["clientId"]
    assert srv.stats()["voicemails_created"] == {f"{woku}:{sha256_hex(WAV)}": 2, f"{woku}:{sha256_hex(other)}": 1}


def test_voicemail_v1_alias(small: tuple[WokuSandboxServer, requests.Session]) -> None:
    srv, api = small
    woku = srv.company.ids("wokus")[3]
    url = f"{srv.url}/v1/wokus/{woku}/voicemails"
    r = api.post(url, files=voicemail_form(None, clientEmail="a@b.co"))
    assert r.status_code == 400 and "language must be one of the following values: es, en" in r.json()["message"]
    r = api.post(url, files=voicemail_form(None, clientEmail="a@b.co", language="en", responseChannel="my-crm"))
    assert r.status_code == 201 and r.json()["wokuId"] == woku
    top = api.get(f"{srv.url}/v1/wokus/{woku}/reviews").json()["data"][0]
    assert (top["language"], top["responseChannel"]) == ("en", "my-crm")
    assert api.post(f"{srv.url}/v1/wokus/nope/voicemails", files=voicemail_form(None, language="es")).status_code == 400
    assert srv.stats()["by_route"]["POST /v1/wokus/{wokuId}/voicemails"] == 3


INVALID_VOICEMAILS = [
    ("woku id not an ObjectId", {"wokuId": "nope"}, "wokuId must be a mongodb id"),
    ("woku id missing", {"wokuId": None}, "wokuId must be a mongodb id"),
    ("qualification 0", {"qualification": "0"}, "qualification must be one of the following values: 1, 2, 3, 4, 5"),
    ("qualification 6", {"qualification": "6"}, "qualification must be one of the following values: 1, 2, 3, 4, 5"),
    ("qualification 4.5", {"qualification": "4.5"}, "qualification must be one of the following values: 1, 2, 3, 4, 5"),
    (
        "qualification text",
        {"qualification": "five"},
        "qualification must be one of the following values: 1, 2, 3, 4, 5",
    ),
    (
        "qualification missing",
        {"qualification": None},
        "qualification must be one of the following values: 1, 2, 3, 4, 5",
    ),
    ("no email, not anonymous", {"clientEmail": None}, "clientEmail is required unless anonymous is true"),
    (
        "no email, anonymous=false",
        {"clientEmail": None, "anonymous": "false"},
        "clientEmail is required unless anonymous is true",
    ),
    ("bad email", {"clientEmail": "not-an-email"}, "clientEmail must be an email"),
    ("anonymous yes", {"anonymous": "yes"}, "anonymous must be one of the following values: true, false"),
    ("file missing", {"file": None}, "file is required"),
    ("file empty", {"file": ("a.wav", b"", "audio/wav")}, "file is required"),
    ("file is text", {"file": ("notes.txt", b"hello", "text/plain")}, "file must be an audio file"),
    ("file is a png", {"file": ("a.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, "")}, "file must be an audio file"),
]


@pytest.mark.parametrize(("case", "fields", "message"), INVALID_VOICEMAILS, ids=[c[0] for c in INVALID_VOICEMAILS])
def test_voicemail_validation(
    small: tuple[WokuSandboxServer, requests.Session], case: str, fields: dict[str, Any], message: str
) -> None:
    srv, api = small
    woku = srv.company.ids("wokus")[-1]
    reviews = srv.company.count("woku_reviews")
    form = voicemail_form(woku, clientEmail="ana@example.com")
    for key, value in fields.items():
        if value is None:
            form.pop(key, None)
        else:
            form[key] = value if isinstance(value, tuple) else (None, value)
    r = api.post(f"{srv.url}/wokus/create-voicemail", files=form)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["statusCode"] == 400 and body["error"] == "Bad Request" and message in body["message"]
    assert srv.company.count("woku_reviews") == reviews and srv.stats()["voicemails_created"] == {}


def test_voicemail_other_outcomes(small: tuple[WokuSandboxServer, requests.Session]) -> None:
    srv, api = small
    co = srv.company
    url = f"{srv.url}/wokus/create-voicemail"
    closed = next(w["_id"] for w in co.truth("wokus") if w["closed"])
    open_woku = next(w["_id"] for w in co.truth("wokus") if not w["closed"])
    assert api.post(url, files=voicemail_form("0" * 24, anonymous="true")).status_code == 404
    assert api.post(url, files=voicemail_form(co.foreign_ids["wokus"][0], anonymous="true")).status_code == 403
    assert api.post(url, files=voicemail_form(closed, anonymous="true")).status_code == 400
    assert api.post(url, json={"wokuId": open_woku, "qualification": "5", "anonymous": "true"}).status_code == 400
    # audio recognised by its declared type, or by magic bytes when the part carries no type
    for file in (
        ("a.mp3", b"whatever", "audio/mpeg"),
        ("a.mp3", b"ID3\x03" + b"\x00" * 32, ""),
        ("a.ogg", b"OggS" + b"\x00" * 32, "application/octet-stream"),
    ):
        assert api.post(url, files=voicemail_form(open_woku, anonymous="true", file=file)).status_code == 201, file
    with WokuSandboxServer(co, max_audio_bytes=1000) as tight:
        r = session(tight).post(
            f"{tight.url}/wokus/create-voicemail", files=voicemail_form(open_woku, anonymous="true")
        )
        assert r.status_code == 413 and r.json()["error"] == "Payload Too Large"


def test_lost_answer_voicemail_is_processed_without_an_answer(
    small: tuple[WokuSandboxServer, requests.Session],
) -> None:
    srv, api = small
    woku = srv.company.ids("wokus")[1]
    reviews_url = f"{srv.url}/v1/wokus/{woku}/reviews"
    before = api.get(reviews_url).json()["total"]
    srv.inject("lost_answer", "/wokus/create-voicemail", method="POST")
    with pytest.raises(requests.ConnectionError):
        api.post(f"{srv.url}/wokus/create-voicemail", files=voicemail_form(woku, clientEmail="lost@example.com"))
    after = api.get(reviews_url).json()
    assert after["total"] == before + 1 and after["data"][0]["type"] == "voice"  # the POST did land
    assert srv.voicemail_count(woku, sha256_hex(WAV)) == 1
    stats = srv.stats()
    assert stats["lost_answers"] == 1 and stats["faults"] == {"lost_answer": 1}
    # a blind re-send creates a duplicate: exactly what a connector has to avoid
    r = api.post(f"{srv.url}/wokus/create-voicemail", files=voicemail_form(woku, clientEmail="lost@example.com"))
    assert r.status_code == 201 and srv.voicemail_count(woku, sha256_hex(WAV)) == 2
    assert r.json()["clientId"] == after["data"][0]["clientId"]
    # with a delay, a client timeout shorter than it sees a timeout; the upload still lands
    srv.inject("lost_answer", "/wokus/create-voicemail", seconds=0.6)
    with pytest.raises(requests.Timeout):
        api.post(f"{srv.url}/wokus/create-voicemail", files=voicemail_form(woku, anonymous="true"), timeout=0.2)
    time.sleep(0.7)
    assert srv.voicemail_count(woku, sha256_hex(WAV)) == 3


# ---------------------------------------------------------------------- faults, rate limit, stats
def test_status_faults(small: tuple[WokuSandboxServer, requests.Session]) -> None:
    srv, api = small
    url = f"{srv.url}/v1/nps"
    srv.inject("503", "/v1/nps", times=2)
    srv.inject("500", "/v1/")
    srv.inject("502", "/v1/wokus")
    assert [api.get(url).status_code for _ in range(4)] == [503, 503, 500, 200]
    assert api.get(f"{srv.url}/v1/wokus").status_code == 502
    r503 = srv.stats()["faults"]
    assert r503 == {"503": 2, "500": 1, "502": 1}
    srv.inject("429", "/v1/csat", seconds=7)
    r = api.get(f"{srv.url}/v1/csat")
    assert r.status_code == 429 and r.headers["Retry-After"] == "7" and r.json()["retryAfter"] == 7
    srv.inject("401", "/v1/ces")
    assert api.get(f"{srv.url}/v1/ces").status_code == 401
    assert api.get(f"{srv.url}/v1/ces").status_code == 200  # one-off: the key is still good
    srv.inject("503", "/v1/external-trackers/", method="POST", every=3, times=2)
    tool = srv.company.ids("nps_tools")[0]
    codes = [
        api.post(f"{srv.url}/v1/external-trackers/nps/{tool}", json={"name": "trr", "value": str(i)}).status_code
        for i in range(8)
    ]
    assert codes == [201, 201, 503, 201, 201, 503, 201, 201]
    assert api.get(f"{srv.url}/v1/external-trackers/nps/{tool}").status_code == 200  # GET not matched
    with pytest.raises(ValueError):
        srv.inject("teapot")
    with pytest.raises(ValueError):
        srv.inject("500", every=0)


def test_reset_slow_and_truncated_faults(small: tuple[WokuSandboxServer, requests.Session]) -> None:
    srv, api = small
    url = f"{srv.url}/v1/flows"
    srv.inject("reset", "/v1/flows")
    with pytest.raises(requests.ConnectionError):
        api.get(url)
    assert api.get(url).status_code == 200  # a fresh connection works again
    srv.inject("slow", "/v1/flows", seconds=0.3)
    t0 = time.monotonic()
    assert api.get(url).status_code == 200
    assert time.monotonic() - t0 >= 0.3
    srv.inject("truncated", "/v1/flows")
    r = api.get(url)
    assert r.status_code == 200 and int(r.headers["Content-Length"]) == len(r.content)
    with pytest.raises(json.JSONDecodeError):
        json.loads(r.content)
    # a reset POST was never processed (unlike lost_answer)
    srv.inject("reset", "/v1/external-trackers", method="POST")
    with pytest.raises(requests.ConnectionError):
        api.post(f"{srv.url}/v1/external-trackers", json={"name": "never", "system": "x"})
    assert srv.company.tracker_by_name("never") is None


def test_rate_limit_answers_429_with_retry_after() -> None:
    with WokuSandboxServer(generate_company(2, nps_responses=10), rate_limit=3, rate_window=60) as srv:
        api = session(srv)
        assert [api.get(f"{srv.url}/v1/nps").status_code for _ in range(3)] == [200, 200, 200]
        r = api.get(f"{srv.url}/v1/nps")
        assert r.status_code == 429 and 1 <= int(r.headers["Retry-After"]) <= 60
        assert r.json()["message"] == "ThrottlerException: Too Many Requests"
        assert srv.stats()["rate_limited"] == 1 and srv.stats()["requests"] == 4


def test_stats_and_admin_endpoints(small: tuple[WokuSandboxServer, requests.Session]) -> None:
    srv, api = small
    co = srv.company
    woku = co.ids("wokus")[4]
    api.get(f"{srv.url}/v1/nps", params={"page": 2})
    api.get(f"{srv.url}/v1/wokus/{woku}/reviews")
    requests.get(f"{srv.url}/v1/nps")  # 401
    stats = requests.get(f"{srv.url}/_sandbox/stats").json()
    assert stats["requests"] == 3 and stats["status_counts"] == {"200": 2, "401": 1}
    assert stats["by_path"] == {"GET /v1/nps": 2, f"GET /v1/wokus/{woku}/reviews": 1}
    assert stats["by_route"] == {"GET /v1/nps": 2, "GET /v1/wokus/{id}/reviews": 1}
    assert requests.post(f"{srv.url}/_sandbox/reset_stats").json()["requests"] == 0
    info = requests.get(f"{srv.url}/_sandbox/info").json()
    assert info["api_key"] == co.api_key and info["counts"]["nps_responses"] == 40
    truth = requests.get(f"{srv.url}/_sandbox/truth/nps_responses").json()
    assert truth == co.truth("nps_responses", iso=True)
    assert requests.get(f"{srv.url}/_sandbox/truth/nope").status_code == 404

    at = "2025-02-01T12:00:00Z"
    r = requests.post(
        f"{srv.url}/_sandbox/mutate",
        json={"add_nps_responses": 3, "add_woku_reviews": {"n": 2, "wokuId": woku, "voice": True}, "at": at},
    )
    added = r.json()
    assert len(added["add_nps_responses"]) == 3 and len(added["add_woku_reviews"]) == 2
    got = fetch_all(api, f"{srv.url}/v1/nps", {"from": at})
    assert sorted(x["_id"] for x in got) == sorted(added["add_nps_responses"])
    assert {x["createdAt"] for x in got} == {"2025-02-01T12:00:00.000Z"}
    top = api.get(f"{srv.url}/v1/wokus/{woku}/reviews", params={"limit": 2}).json()["data"]
    assert sorted(x["_id"] for x in top) == sorted(added["add_woku_reviews"]) and {x["type"] for x in top} == {"voice"}

    target = co.truth("nps_responses", iso=True)[0]
    r = requests.post(
        f"{srv.url}/_sandbox/mutate",
        json={"update": {"kind": "nps_responses", "ids": [target["_id"]], "fields": {"score": 10, "textnote": None}}},
    )
    assert r.json() == {"update_nps_responses": [target["_id"]]}
    edited = api.get(f"{srv.url}/v1/nps/{target['_id']}").json()
    assert edited["score"] == 10 and edited["createdAt"] == target["createdAt"]
    assert edited["updatedAt"] > target["updatedAt"]

    r = requests.post(f"{srv.url}/_sandbox/faults", json={"kind": "503", "path_prefix": "/v1/forms", "method": "GET"})
    assert r.status_code == 200 and api.get(f"{srv.url}/v1/forms").status_code == 503
    assert requests.post(f"{srv.url}/_sandbox/faults", json={"kind": "nope"}).status_code == 400
    requests.post(f"{srv.url}/_sandbox/faults", json={"kind": "500", "path_prefix": "/v1/forms"})
    requests.post(f"{srv.url}/_sandbox/clear_faults")
    assert api.get(f"{srv.url}/v1/forms").status_code == 200
    assert (
        requests.post(f"{srv.url}/_sandbox/mutate", json={"update": {"kind": "wokus", "ids": ["x"]}}).status_code == 400
    )

    api.post(f"{srv.url}/wokus/create-voicemail", files=voicemail_form(woku, anonymous="true"))
    log = requests.get(f"{srv.url}/_sandbox/voicemails", params={"wokuId": woku}).json()
    assert [v["sha256"] for v in log] == [sha256_hex(WAV)]


def test_concurrent_paging_is_consistent(server: WokuSandboxServer, company: WokuCompany) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def pull(_: int) -> list[str]:
        with session(server) as s:
            return [r["_id"] for r in fetch_all(s, f"{server.url}/v1/nps", limit=100)]

    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(pull, range(4)))
    assert all(r == newest_first(company.truth("nps_responses", iso=True)) for r in results)
    assert time.monotonic() - t0 < 10


def test_cli_subprocess() -> None:
    args = ("--seed", "3", "--nps-responses", "30", "--reviews", "12", "--api-key", "sk_cli")
    with sandbox_process("sandbox.woku", *args) as (url, stdout):
        assert stdout.readline().strip() == "SANDBOX_API_KEY=sk_cli"
        r = bearer_session("sk_cli").get(f"{url}/v1/nps", timeout=5)
        assert r.status_code == 200 and r.json()["total"] == 30
        assert len(requests.get(f"{url}/_sandbox/truth/woku_reviews", timeout=5).json()) == 12


def test_truth_datetimes_are_utc(company: WokuCompany) -> None:
    rec = company.truth("woku_reviews")[0]
    assert rec["createdAt"].tzinfo is not None and rec["createdAt"].utcoffset().total_seconds() == 0
    assert rec["createdAt"] >= datetime(2024, 1, 1, tzinfo=UTC)


def test_filtered_pages_follow_edits_and_additions(small: tuple[WokuSandboxServer, requests.Session]) -> None:
    """Filtered lists are cached between pages; any write must invalidate that cache."""
    srv, api = small
    co = srv.company
    url = f"{srv.url}/v1/nps"
    with_feedback = fetch_all(api, url, {"withFeedback": "true"}, limit=5)
    target = with_feedback[0]["_id"]
    co.update_records("nps_responses", [target], textnote=None, voicemail=None)
    again = fetch_all(api, url, {"withFeedback": "true"}, limit=5)
    assert [r["_id"] for r in again] == [r["_id"] for r in with_feedback[1:]]
    added = co.add_responses("nps", 30, at="2030-01-01T00:00:00Z")
    expected = {r["_id"] for r in added if r["textnote"] or r["voicemail"]}
    newest = fetch_all(api, url, {"withFeedback": "true", "from": "2030-01-01"}, limit=5)
    assert expected and {r["_id"] for r in newest} == expected


def test_chunked_multipart_upload(small: tuple[WokuSandboxServer, requests.Session]) -> None:
    srv, api = small
    woku = srv.company.ids("wokus")[2]
    body = (
        b'--XyZ\r\nContent-Disposition: form-data; name="wokuId"\r\n\r\n' + woku.encode() + b"\r\n"
        b'--XyZ\r\nContent-Disposition: form-data; name="qualification"\r\n\r\n3\r\n'
        b'--XyZ\r\nContent-Disposition: form-data; name="anonymous"\r\n\r\ntrue\r\n'
        b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n'
        b"Content-Type: audio/wav\r\n\r\n" + WAV + b"\r\n--XyZ--\r\n"
    )
    chunks = (body[i : i + 100] for i in range(0, len(body), 100))  # a generator makes requests send it chunked
    r = api.post(
        f"{srv.url}/wokus/create-voicemail", data=chunks, headers={"Content-Type": "multipart/form-data; boundary=XyZ"}
    )
    assert r.status_code == 201, r.text
    assert srv.voicemail_count(woku, sha256_hex(WAV)) == 1  # the binary file arrived byte for byte
