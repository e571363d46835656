"""Tests of the Wootric sandbox server itself (``sandbox/wootric/server.py``), over real loopback HTTP:
OAuth and tokens, listing and single resources, the rate limit, faults, keep-alive, mutations and
admin endpoints, the CLI.
"""

from __future__ import annotations

import http.client
import json
import math
import time
from datetime import UTC, datetime

import pytest
import requests

from sandbox.wootric import Account, SandboxServer, generate_account
from tests.sandbox.support import FakeTime, bearer_session, sandbox_process
from tests.sandbox.wootric.support import CREDS, epoch


def test_oauth_grants(server: SandboxServer) -> None:
    url = f"{server.url}/oauth/token"
    r = requests.post(url, data=CREDS)
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 7200 and "refresh_token" not in body
    # multipart (curl -F) password grant with account token
    form = {"grant_type": (None, "password"), "username": (None, server.username), "password": (None, server.password)}
    r = requests.post(url, params={"account_token": server.account_token}, files=form)
    assert r.status_code == 200, r.text
    refresh = r.json()["refresh_token"]
    assert requests.post(url, params={"account_token": "NPS-other"}, files=form).status_code == 401
    r = requests.post(url, data={"grant_type": "refresh_token", "refresh_token": refresh})
    assert r.status_code == 200 and r.json()["refresh_token"] != refresh
    r = requests.post(url, data={"grant_type": "refresh_token", "refresh_token": refresh})
    assert r.status_code == 401 and r.json()["error"] == "invalid_grant"
    r = requests.post(url, data={**CREDS, "client_secret": "nope"})
    assert r.status_code == 401 and r.json()["error"] == "invalid_grant"
    r = requests.post(url, data={"grant_type": "implicit"})
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"


def test_api_requires_valid_token(server: SandboxServer) -> None:
    url = f"{server.url}/v1/responses"
    r = requests.get(url)
    assert r.status_code == 401 and r.json() == {"error": "Unauthorized"}
    assert requests.get(url, headers={"Authorization": "Bearer bogus"}).status_code == 401
    token = server.issue_token()
    assert requests.get(url, params={"access_token": token}).status_code == 200
    server.expire_tokens()
    assert requests.get(url, params={"access_token": token}).status_code == 401


def test_token_ttl_expiry(account: Account) -> None:
    clock = FakeTime()
    with SandboxServer(account, token_ttl=300, clock=clock.clock) as srv:
        token = requests.post(f"{srv.url}/oauth/token", data=CREDS).json()["access_token"]
        hdr = {"Authorization": f"Bearer {token}"}
        clock.now += 299
        assert requests.get(f"{srv.url}/v1/segments", headers=hdr).status_code == 200
        clock.now += 1
        assert requests.get(f"{srv.url}/v1/segments", headers=hdr).status_code == 401


def test_responses_default_order_and_excluded_filter(
    server: SandboxServer, api: requests.Session, account: Account
) -> None:
    truth = account.truth("responses")
    visible = [r for r in truth if not r["excluded_from_calculations"]]
    first = api.get(f"{server.url}/v1/responses").json()
    assert len(first) == 25
    expected = sorted(visible, key=lambda r: (r["created_at"], r["id"]), reverse=True)[:25]
    assert [r["id"] for r in first] == [r["id"] for r in expected]
    assert first[0] == account.render("responses", expected[0])
    r = api.get(f"{server.url}/v1/responses", params={"excluded_from_calculations": "true", "per_page": 50})
    assert [x["id"] for x in r.json()] == [
        x["id"] for x in sorted(truth, key=lambda r: (r["created_at"], r["id"]), reverse=True)[:50]
    ]


def test_single_resources(server: SandboxServer, api: requests.Session, account: Account) -> None:
    user = account.truth("end_users")[9]
    base = f"{server.url}/v1/end_users"
    assert api.get(f"{base}/{user['id']}").json() == account.render("end_users", user)
    assert api.get(f"{base}/{user['email']}", params={"lookup_by_email": "true"}).json()["id"] == user["id"]
    assert api.get(f"{base}/999999").status_code == 404
    settings = api.get(f"{base}/{user['id']}/settings").json()
    assert settings["end_user_id"] == user["id"] and settings["email_nps"] == user["settings"]["email_nps"]
    mine = [r for r in account.truth("responses") if r["end_user_id"] == user["id"]]
    params = {"excluded_from_calculations": "true", "per_page": 50}
    got = api.get(f"{base}/{user['id']}/responses", params=params).json()
    assert sorted(r["id"] for r in got) == sorted(r["id"] for r in mine)
    promoters = api.get(f"{base}/{user['id']}/responses/promoters", params={"excluded_from_calculations": "1"}).json()
    assert all(r["score"] >= 9 for r in promoters)
    if mine:
        assert api.get(f"{base}/{user['id']}/responses/{mine[0]['id']}").json()["id"] == mine[0]["id"]
    declines = api.get(f"{base}/{user['id']}/declines").json()
    assert all(d["end_user_id"] == user["id"] for d in declines)
    assert api.get(f"{server.url}/v1/nope").status_code == 404
    assert len(api.get(f"{server.url}/v1/segments").json()) >= 3
    assert "survey_templates" in api.get(f"{server.url}/v1/survey_templates").json()
    stats = api.get(f"{server.url}/v2/email_stats", params={"date_range[start_date]": "2023-01-01"}).json()
    assert stats["email_stats"]["raw_results"]["sart_date"].startswith("2023-01-01")
    assert "sends" in api.get(f"{server.url}/v2/email_stats/sources").json()


def test_nps_summary(server: SandboxServer, api: requests.Session, account: Account) -> None:
    params = {"date[start]": "'2023-03-01'", "date[end]": "'2023-05-31'"}
    got = api.get(f"{server.url}/v1/nps_summary", params=params).json()
    lo, hi = datetime(2023, 3, 1, tzinfo=UTC), datetime(2023, 6, 1, tzinfo=UTC)
    truth = account.truth("responses")
    scores = [r["score"] for r in truth if lo <= r["created_at"] < hi and not r["excluded_from_calculations"]]
    det, pro = sum(s <= 6 for s in scores), sum(s >= 9 for s in scores)
    assert got["responses"] == len(scores) and got["detractors"] == det and got["promoters"] == pro
    assert got["nps"] == round(100 * (pro - det) / len(scores))
    assert isinstance(got["response_rate"], int) and isinstance(got["email_response_rate"], int)


def test_rate_limit_headers_and_429(account: Account) -> None:
    clock = FakeTime(1_000_010.0)  # in the window [999_960, 1_000_020): a window boundary cannot fall in between
    with SandboxServer(account, rate_limit=3, rate_window=60, clock=clock.clock) as srv:
        s = bearer_session(srv.issue_token())
        seen = []
        for _ in range(3):
            r = s.get(f"{srv.url}/v1/declines")
            assert r.status_code == 200
            seen.append(int(r.headers["X-Rate-Limit-Remaining"]))
            assert r.headers["X-Rate-Limit-Limit"] == "3"
            assert r.headers["X-Rate-Limit-Reset"] == "1000020"
        assert seen == [2, 1, 0]
        r = s.get(f"{srv.url}/v1/declines")
        assert r.status_code == 429 and r.json() == {"error": "Rate limit exceeded"}
        assert r.headers["X-Rate-Limit-Remaining"] == "0" and "Retry-After" not in r.headers
        assert srv.stats()["rate_limited"] == 1 and srv.stats()["requests"] == 4


def test_rate_limit_window_resets(account: Account) -> None:
    clock = FakeTime(1_000_019.0)
    with SandboxServer(account, rate_limit=1, rate_window=60, clock=clock.clock) as srv:
        s = bearer_session(srv.issue_token())
        statuses = [s.get(f"{srv.url}/v1/segments").status_code for _ in range(2)]
        clock.now = 1_000_020.0  # the next window
        statuses += [s.get(f"{srv.url}/v1/segments").status_code for _ in range(2)]
        assert statuses == [200, 429, 200, 429]


def test_no_rate_headers_when_unlimited(server: SandboxServer, api: requests.Session) -> None:
    r = api.get(f"{server.url}/v1/declines")
    assert not any(h.lower().startswith("x-rate-limit") for h in r.headers)


def test_status_faults_apply_in_order(server: SandboxServer, api: requests.Session) -> None:
    url = f"{server.url}/v1/declines"
    server.inject("503", times=2)
    server.inject("500")
    server.inject("502", path_prefix="/v1/responses")
    assert api.get(f"{server.url}/v1/segments").status_code == 503
    assert api.get(url).status_code == 503
    assert api.get(url).status_code == 500
    assert api.get(url).status_code == 200
    assert api.get(f"{server.url}/v1/responses").status_code == 502
    server.inject("429")
    before = time.time()
    r = api.get(url)
    after = time.time()
    # a second after the refusal, as an epoch second (rounded up): bounds, not a margin a slow machine exceeds
    assert r.status_code == 429 and before + 1 <= int(r.headers["X-Rate-Limit-Reset"]) <= math.ceil(after + 1)


def test_401_fault_invalidates_tokens(server: SandboxServer, api: requests.Session) -> None:
    url = f"{server.url}/v1/declines"
    server.inject("401")
    assert api.get(url).status_code == 401
    assert api.get(url).status_code == 401  # the old token is gone for good
    token = requests.post(f"{server.url}/oauth/token", data=CREDS).json()["access_token"]
    assert requests.get(url, headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_truncated_reset_and_slow_faults(server: SandboxServer, api: requests.Session) -> None:
    url = f"{server.url}/v1/declines"
    server.inject("truncated")
    r = api.get(url)
    assert r.status_code == 200 and int(r.headers["Content-Length"]) == len(r.content)
    with pytest.raises(json.JSONDecodeError):
        json.loads(r.content)
    server.inject("reset")
    with pytest.raises(requests.ConnectionError):
        api.get(url)
    assert api.get(url).status_code == 200  # a fresh connection works again
    server.inject("slow", seconds=0.3)
    t0 = time.monotonic()
    assert api.get(url).status_code == 200
    assert time.monotonic() - t0 >= 0.3
    with pytest.raises(ValueError):
        server.inject("teapot")


def test_keep_alive_reuses_connection(server: SandboxServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    headers = {"Authorization": f"Bearer {server.issue_token()}"}
    socks = set()
    for _ in range(5):
        conn.request("GET", "/v1/segments", headers=headers)
        resp = conn.getresponse()
        assert resp.status == 200 and json.loads(resp.read())
        socks.add(id(conn.sock))
    assert len(socks) == 1 and conn.sock is not None
    server.inject("reset", path_prefix="/v1/segments")
    conn.request("GET", "/v1/segments", headers=headers)
    with pytest.raises((ConnectionError, http.client.RemoteDisconnected)):
        conn.getresponse()
    conn.close()


def test_mutations_and_admin_endpoints() -> None:
    acct = generate_account(3, end_users=50, responses=200, declines=20)
    with SandboxServer(acct) as srv:
        s = bearer_session(srv.issue_token())
        s.get(f"{srv.url}/v1/responses")
        requests.post(f"{srv.url}/oauth/token", data=CREDS)
        stats = requests.get(f"{srv.url}/_sandbox/stats").json()
        assert stats["requests"] == 1 and stats["token_requests"] == 1
        assert stats["by_path"] == {"/v1/responses": 1} and stats["status_counts"] == {"200": 1}
        requests.post(f"{srv.url}/_sandbox/reset_stats")
        assert srv.stats()["requests"] == 0

        truth = requests.get(f"{srv.url}/_sandbox/truth/responses").json()
        assert len(truth) == 200 and truth[0]["created_at"].endswith("Z")
        first = datetime.fromisoformat(truth[0]["created_at"].replace("Z", "+00:00"))
        assert first == acct.truth("responses")[0]["created_at"]

        at = int(datetime(2024, 6, 1, tzinfo=UTC).timestamp())
        r = requests.post(f"{srv.url}/_sandbox/mutate", json={"add_responses": 5, "update_end_users": [1, 2], "at": at})
        assert r.json() == {"add_responses": [201, 202, 203, 204, 205], "update_end_users": [1, 2]}
        got = s.get(f"{srv.url}/v1/responses", params={"created[gte]": at}).json()
        assert sorted(x["id"] for x in got) == [201, 202, 203, 204, 205]
        got = s.get(f"{srv.url}/v1/end_users", params={"updated[gte]": at}).json()
        assert sorted(x["id"] for x in got) == [1, 2]

        before = acct.truth("responses")[0]
        after = acct.update_responses([1], excluded_from_calculations=not before["excluded_from_calculations"])[0]
        assert after["created_at"] == before["created_at"] and after["updated_at"] > before["updated_at"]
        flagged = s.get(f"{srv.url}/v1/responses", params={"created[eq]": epoch(before["created_at"])}).json()
        assert (1 in [x["id"] for x in flagged]) == before["excluded_from_calculations"]

        r = requests.post(f"{srv.url}/_sandbox/faults", json={"kind": "503", "path_prefix": "/v1/", "times": 1})
        assert r.status_code == 200
        assert s.get(f"{srv.url}/v1/declines").status_code == 503
        assert requests.post(f"{srv.url}/_sandbox/faults", json={"kind": "nope"}).status_code == 400
        assert srv.stats()["faults"] == {"503": 1}


def test_cli_subprocess() -> None:
    args = ("--end-users", "20", "--responses", "60", "--declines", "5", "--seed", "2", "--rate-limit", "100")
    with sandbox_process("sandbox.wootric", *args) as (url, _):
        token = requests.post(f"{url}/oauth/token", data=CREDS, timeout=5).json()["access_token"]
        r = bearer_session(token).get(f"{url}/v1/responses", timeout=5)
        assert r.status_code == 200 and r.headers["X-Rate-Limit-Limit"] == "100"
        assert len(requests.get(f"{url}/_sandbox/truth/end_users", timeout=5).json()) == 20


def test_admin_delete_and_old_edits_show_in_lists_and_nps_summary() -> None:
    """What `verify` tests rely on: deleting records and editing old ones through /_sandbox/mutate
    changes the lists and the month's nps_summary alike."""
    acct = generate_account(seed=7, end_users=30, responses=300, declines=30, span_days=60)
    srv = SandboxServer(acct)
    srv.start()
    try:
        s = bearer_session(srv.issue_token())
        month = {"date[start]": "2023-01-01", "date[end]": "2023-01-31"}
        before = s.get(f"{srv.url}/v1/nps_summary", params=month).json()
        january = [r for r in acct.truth("responses") if r["created_at"].month == 1]
        counted = [r for r in january if not r["excluded_from_calculations"]]
        assert before["responses"] == len(counted)
        gone, edited = [r["id"] for r in counted[:2]], [r["id"] for r in counted[2:4]]
        user, decline = acct.truth("end_users")[0]["id"], acct.truth("declines")[0]["id"]
        r = requests.post(
            f"{srv.url}/_sandbox/mutate",
            json={
                "delete": [
                    {"kind": "responses", "ids": gone},
                    {"kind": "declines", "ids": [decline]},
                    {"kind": "end_users", "ids": [user]},
                ],
                "update_responses": {"ids": edited, "fields": {"excluded_from_calculations": True}},
            },
        )
        assert r.status_code == 200, r.text
        assert r.json()["delete_responses"] == gone and r.json()["delete_end_users"] == [user]
        after = s.get(f"{srv.url}/v1/nps_summary", params=month).json()
        assert after["responses"] == before["responses"] - 4
        listed = s.get(
            f"{srv.url}/v1/responses",
            params={"created[lt]": epoch(january[-1]["created_at"]) + 1, "per_page": 50, "sort_order": "asc"},
        ).json()
        assert not set(gone) & {x["id"] for x in listed}
        assert s.get(f"{srv.url}/v1/end_users/{user}").status_code == 404
        assert user not in {u["id"] for u in acct.truth("end_users")}
        bad = requests.post(f"{srv.url}/_sandbox/mutate", json={"delete": {"kind": "responses", "ids": gone}})
        assert bad.status_code == 400
    finally:
        srv.stop()
