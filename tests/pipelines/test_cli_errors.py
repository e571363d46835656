"""Bad input ends in one line naming the cause, its documented exit code, no traceback, no secret, nothing loaded."""

import signal
import socket
from pathlib import Path

import pytest

from sandbox.hostile import Answer, HostileRequest, HostileServer, json_answer
from sandbox.wootric import generate_account
from tests.conftest import run_cli, start_cli
from tests.support.hold import HeldCall, api_request

SECRET = "s3cret-value-never-printed"


@pytest.fixture
def server(start_sandbox):
    return start_sandbox(generate_account(seed=1, end_users=10, responses=40, declines=5))


def creds(server, secret: str | None = None) -> dict:
    return {
        "SOURCES__WOOTRIC__BASE_URL": server.url,
        "SOURCES__WOOTRIC__CREDENTIALS__CLIENT_ID": server.client_id,
        "SOURCES__WOOTRIC__CREDENTIALS__CLIENT_SECRET": secret or server.client_secret,
    }


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


CASES = {
    "wrong secret": (lambda s: creds(s, SECRET), [], "rejected the credentials of the client_credentials grant", 3),
    "wrong password": (
        lambda s: {
            "SOURCES__WOOTRIC__BASE_URL": s.url,
            "SOURCES__WOOTRIC__CREDENTIALS__USERNAME": s.username,
            "SOURCES__WOOTRIC__CREDENTIALS__PASSWORD": SECRET,
        },
        [],
        "rejected the credentials of the password grant",
        3,
    ),
    "no credentials": (
        lambda s: {"SOURCES__WOOTRIC__BASE_URL": s.url},
        [],
        "SOURCES__WOOTRIC__CREDENTIALS__CLIENT_ID",
        2,
    ),
    "unknown region": (
        lambda s: {**creds(s), "SOURCES__WOOTRIC__BASE_URL": "", "SOURCES__WOOTRIC__REGION": "mars"},
        [],
        "sources.wootric.region",
        2,
    ),
    "malformed start_date": (
        lambda s: {**creds(s), "SOURCES__WOOTRIC__START_DATE": "2024-13-45"},
        [],
        "sources.wootric.start_date",
        2,
    ),
    "malformed --start-date": (creds, ["--start-date", "31/01/2024"], "--start-date", 2),
    "per_page 0": (lambda s: {**creds(s), "SOURCES__WOOTRIC__PER_PAGE": "0"}, [], "sources.wootric.per_page", 2),
    "per_page 51": (lambda s: {**creds(s), "SOURCES__WOOTRIC__PER_PAGE": "51"}, [], "sources.wootric.per_page", 2),
    "per_page text": (lambda s: {**creds(s), "SOURCES__WOOTRIC__PER_PAGE": "many"}, [], "per_page", 2),
    "unknown resource": (creds, ["--resources", "responses,nps"], "--resources: unknown nps", 2),
    "unknown destination": (creds, ["--destination", "snowflake2"], "unknown destination", 2),
    "api down": (
        lambda s: {
            **creds(s),
            "SOURCES__WOOTRIC__BASE_URL": f"http://127.0.0.1:{closed_port()}",
            "SOURCES__WOOTRIC__MAX_RETRIES": "2",
        },
        [],
        "failed after 2 attempts: connection failed",
        4,
    ),
    "postgres down": (
        lambda s: {
            **creds(s),
            "DESTINATION__POSTGRES__CREDENTIALS": f"postgresql://loader:{SECRET}@127.0.0.1:{closed_port()}/x",
        },
        ["--destination", "postgres"],
        "destination failed",
        5,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_expected_failures_end_in_one_clear_line(case: str, server, workdir: Path) -> None:
    make_env, args, expected, code = CASES[case]
    done = run_cli(args, workdir, make_env(server))
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, done.stderr
    assert expected in errors[0], errors[0]
    assert SECRET not in done.stderr + done.stdout
    db = workdir / "feedback.duckdb"
    if db.exists():
        import duckdb

        with duckdb.connect(str(db), read_only=True) as con:
            assert con.execute("SELECT count(*) FROM information_schema.tables").fetchone()[0] == 0


def _refuses(request: HostileRequest) -> Answer:
    """An API that refuses every request with 403, echoing the request's Authorization in its reason."""
    return json_answer(403, {"error": f"forbidden for this plan ({request.headers.get('Authorization')})"})


@pytest.mark.parametrize(
    "script, key",
    [
        ("wootric_pipeline.py", "SOURCES__WOOTRIC__CREDENTIALS__ACCESS_TOKEN"),
        ("woku_pipeline.py", "SOURCES__WOKU__CREDENTIALS__API_KEY"),
    ],
)
def test_an_answer_retrying_cannot_fix_exits_1_with_the_apis_reason_and_no_echoed_secret(
    workdir: Path, script: str, key: str
) -> None:
    vendor = key.split("__")[1]
    with HostileServer({"GET /": _refuses}) as api:
        done = run_cli([], workdir, {f"SOURCES__{vendor}__BASE_URL": api.url, key: SECRET}, script=script)
    assert done.returncode == 1, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "HTTP 403: forbidden for this plan (Bearer ***)" in errors[0], done.stderr
    assert "Traceback" not in done.stderr and SECRET not in done.stderr + done.stdout


def test_an_interrupt_exits_130_in_one_line(server, workdir: Path) -> None:
    with HeldCall(server, "run", matches=api_request()) as held:  # the sync waits on its first API answer
        run = start_cli([], workdir, creds(server))
        assert held.entered.wait(120), "the sync never reached the API"
        run.send_signal(signal.SIGINT)
        out, err = run.communicate(timeout=60)
    assert run.returncode == 130, err
    assert [line for line in err.splitlines() if line.startswith("error:")] == ["error: interrupted"]
    assert "Traceback" not in err
