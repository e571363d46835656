"""Tests of the Woku sandbox's request parameters (``sandbox/woku/params.py``), over loopback HTTP:
paging, date bounds, survey filters and string limits, validated like the API's pipes and DTOs.
"""

from __future__ import annotations

import requests

from sandbox.woku import WokuCompany, WokuSandboxServer
from tests.sandbox.woku.support import fetch_all, newest_first


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
