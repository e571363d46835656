"""Tests of the Woku sandbox's external trackers (``sandbox/woku/trackers.py``), over loopback HTTP:
definitions and values read, assignment as an upsert, validation, idempotent creation.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import requests

from sandbox.woku import WokuCompany, WokuSandboxServer
from tests.sandbox.woku.support import ISO_MS, OID, fetch_all, newest_first


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
