"""Tests of the Woku sandbox's read endpoints (``sandbox/woku/reads.py``), over loopback HTTP:
every list pages to the exact truth, nested lists, single resources, cached filtered pages.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from sandbox.woku import WokuCompany, WokuSandboxServer
from tests.sandbox.woku.support import OID, fetch_all, newest_first

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
