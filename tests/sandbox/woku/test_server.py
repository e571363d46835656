"""Tests of the Woku sandbox server itself (``sandbox/woku/server.py``), over real loopback HTTP:
auth and routing, faults, the rate limit, counters and admin endpoints, concurrency, the CLI.
"""

from __future__ import annotations

import json
import time

import pytest
import requests

from sandbox.woku import WokuCompany, WokuSandboxServer, generate_company
from sandbox.woku.data import sha256_hex
from tests.sandbox.support import bearer_session, sandbox_process
from tests.sandbox.woku.support import WAV, fetch_all, newest_first, session, voicemail_form


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

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(pull, range(4)))
    assert all(r == newest_first(company.truth("nps_responses", iso=True)) for r in results)


def test_cli_subprocess() -> None:
    args = ("--seed", "3", "--nps-responses", "30", "--reviews", "12", "--api-key", "sk_cli")
    with sandbox_process("sandbox.woku", *args) as (url, stdout):
        assert stdout.readline().strip() == "SANDBOX_API_KEY=sk_cli"
        r = bearer_session("sk_cli").get(f"{url}/v1/nps", timeout=5)
        assert r.status_code == 200 and r.json()["total"] == 30
        assert len(requests.get(f"{url}/_sandbox/truth/woku_reviews", timeout=5).json()) == 12


def test_admin_delete_shows_in_lists_and_totals() -> None:
    """A response deleted through /_sandbox/mutate leaves the list and its month's `total`."""
    co = generate_company(6, nps_responses=40, csat_responses=5, ces_responses=5, reviews=5)
    srv = WokuSandboxServer(co)
    srv.start()
    try:
        api = session(srv)
        target = co.truth("nps_responses", iso=True)[3]
        before = api.get(f"{srv.url}/v1/nps", params={"limit": 1}).json()["total"]
        r = requests.post(
            f"{srv.url}/_sandbox/mutate", json={"delete": {"kind": "nps_responses", "ids": [target["_id"]]}}
        )
        assert r.json() == {"delete_nps_responses": [target["_id"]]}
        assert api.get(f"{srv.url}/v1/nps", params={"limit": 1}).json()["total"] == before - 1
        window = {"from": target["createdAt"], "to": target["createdAt"]}
        assert target["_id"] not in {x["_id"] for x in fetch_all(api, f"{srv.url}/v1/nps", window)}
        assert api.get(f"{srv.url}/v1/nps/{target['_id']}").status_code == 404
        again = requests.post(
            f"{srv.url}/_sandbox/mutate", json={"delete": {"kind": "nps_responses", "ids": [target["_id"]]}}
        )
        assert again.status_code == 400
    finally:
        srv.stop()
