"""Each sync against a hostile API (`sandbox.hostile`): nothing leaks, nothing hangs, one line each.

Every "other host" is another loopback origin; the network guard (tests/support/netguard.py) makes
any connection off this machine fail, so a refusal is proven to come before a connection.
"""

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Dict, List

import pytest

from sandbox.hostile import Answer, HostileServer, json_answer
from tests.conftest import run_cli

KEY = "hostile-test-key-4711"
CLIENT_SECRET = "hostile-client-secret-0815"


def nps_page(page: int, total: int = 10_000, size: int = 100) -> Dict:
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    records = [
        {
            "_id": f"{page:04d}{i:020d}",
            "score": 9,
            "createdAt": (start + timedelta(minutes=page * size + i)).isoformat(),
        }
        for i in range(size)
    ]
    return {"data": records, "total": total, "page": page, "limit": size}


def woku(server: HostileServer, **extra: str) -> Dict[str, str]:
    return {"SOURCES__WOKU__BASE_URL": server.url, "SOURCES__WOKU__CREDENTIALS__API_KEY": KEY, **extra}


def sync_woku(workdir: Path, env: Dict[str, str]):
    return run_cli(["--resources", "nps_responses"], workdir, env, timeout=120, script="woku_pipeline.py")


def one_error(done) -> str:
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in done.stderr, done.stderr
    assert KEY not in done.stderr + done.stdout and CLIENT_SECRET not in done.stderr + done.stdout
    return errors[0]


def test_clear_text_to_another_host_is_refused_before_any_connection(workdir: Path) -> None:
    # 192.0.2.10 is a documentation address: the guard would refuse a connection, the client must not try
    plain = {"SOURCES__WOKU__BASE_URL": "http://192.0.2.10", "SOURCES__WOKU__CREDENTIALS__API_KEY": KEY}
    done = run_cli([], workdir, plain, script="woku_pipeline.py")
    assert done.returncode == 2, done.stderr
    assert "would send the credentials in clear text" in one_error(done)
    wootric = {
        "SOURCES__WOOTRIC__BASE_URL": "http://192.0.2.10",
        "SOURCES__WOOTRIC__CREDENTIALS__CLIENT_ID": "id",
        "SOURCES__WOOTRIC__CREDENTIALS__CLIENT_SECRET": CLIENT_SECRET,
    }
    done = run_cli([], workdir, wootric)
    assert done.returncode == 2 and "sources.wootric.http.allow_insecure_http" in one_error(done)


def test_a_token_request_redirected_elsewhere_is_not_sent_there(workdir: Path) -> None:
    with HostileServer({}) as elsewhere:
        redirect = Answer(307, {"Location": elsewhere.url.replace("127.0.0.1", "localhost") + "/oauth/token"})
        with HostileServer({"POST /oauth/token": lambda r: redirect}) as api:
            env = {
                "SOURCES__WOOTRIC__BASE_URL": api.url,
                "SOURCES__WOOTRIC__CREDENTIALS__CLIENT_ID": "id",
                "SOURCES__WOOTRIC__CREDENTIALS__CLIENT_SECRET": CLIENT_SECRET,
            }
            done = run_cli([], workdir, env)
        assert elsewhere.requests == []
    assert done.returncode == 1, done.stderr
    assert "a POST is never sent again elsewhere" in one_error(done)


def test_a_get_redirected_to_another_origin_is_not_followed(workdir: Path) -> None:
    with HostileServer({}) as elsewhere:
        moved = Answer(302, {"Location": f"{elsewhere.url}/v1/nps?page=1"})
        with HostileServer({"GET /v1/nps": lambda r: moved}) as api:
            done = sync_woku(workdir, woku(api))
        assert elsewhere.requests == []
    assert done.returncode == 1, done.stderr
    assert f"redirected to another host, {elsewhere.url}" in one_error(done)


@pytest.mark.parametrize(
    "headers, asked",
    [
        ({"X-Rate-Limit-Remaining": "0", "X-Rate-Limit-Reset": str(int(time.time()) + 20 * 365 * 86400)}, "days"),
        ({"Retry-After": "1000000000"}, "days"),
    ],
)
def test_a_wait_longer_than_the_cap_ends_the_run_in_one_line(workdir: Path, headers, asked) -> None:
    def answer(request) -> Answer:
        if "Retry-After" in headers:
            return json_answer(429, {"message": "slow down"}, headers)
        return json_answer(200, nps_page(int(request.query["page"]), total=300), headers)

    with HostileServer({"GET /v1/nps": answer}) as api:
        started = time.monotonic()
        done = sync_woku(workdir, woku(api))
    assert done.returncode == 4, done.stderr
    line = one_error(done)
    assert "the API asked to wait" in line and asked in line and "sources.woku.http.max_wait_seconds" in line
    assert time.monotonic() - started < 60


def test_a_server_that_ignores_page_is_not_paged_without_end(workdir: Path) -> None:
    with HostileServer({"GET /v1/nps": lambda r: json_answer(200, nps_page(1))}) as api:
        done = sync_woku(workdir, woku(api))
        requests = len(api.requests)
    assert done.returncode == 1, done.stderr
    assert "page 2 repeats page 1" in one_error(done)
    assert requests == 2


def test_an_answer_larger_than_the_cap_is_not_read_to_its_end(workdir: Path) -> None:
    sent: List[int] = []

    def flood(request) -> Answer:
        def chunks():
            for _ in range(64):  # 64 MB if read to the end; the cap below is 1 MB
                sent.append(1)
                yield b" " * (1 << 20)

        return Answer(200, {"Content-Type": "application/json"}, chunks())

    with HostileServer({"GET /v1/nps": flood}) as api:
        done = sync_woku(workdir, woku(api, SOURCES__WOKU__HTTP__MAX_RESPONSE_MB="1"))
    assert done.returncode == 1, done.stderr
    assert "the answer is larger than 1 MB" in one_error(done)
    assert len(sent) < 64, "the client read the whole flood"


def test_the_run_deadline_ends_a_slow_api_in_one_line(workdir: Path) -> None:
    def slow(request) -> Answer:
        time.sleep(0.3)
        return json_answer(200, nps_page(int(request.query["page"])))

    with HostileServer({"GET /v1/nps": slow}) as api:
        done = sync_woku(workdir, woku(api, SOURCES__WOKU__HTTP__DEADLINE_SECONDS="1"))
    assert done.returncode == 4, done.stderr
    assert "sources.woku.http.deadline_seconds" in one_error(done)
