"""Every value lands as the API sent it on every destination, and PostgreSQL takes its documented
credentials (also without a password, as on a trust-authenticated server)."""

import subprocess
import uuid
from pathlib import Path
from typing import Dict, Optional
from urllib.parse import urlsplit, urlunsplit

import pytest

from sandbox.wootric import generate_account
from tests.conftest import WITH_BIGQUERY, _cli, run_cli, sandbox_env
from tests.support.warehouse import PG_DSN, assert_exact, drop_postgres_dataset, read_postgres

TABLES = ("end_users", "responses", "declines")
SECRET = "s3cret-never-printed"


def without_password(dsn: str) -> str:
    """`postgresql://user@host:port/db`: what a trust-authenticated server takes."""
    parts = urlsplit(dsn)
    netloc = f"{parts.username}@{parts.hostname}:{parts.port or 5432}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


@pytest.mark.parametrize("warehouse", WITH_BIGQUERY, indirect=True)
def test_empty_strings_and_nulls_land_as_sent(workdir: Path, warehouse, start_sandbox) -> None:
    account = generate_account(seed=31, end_users=60, responses=400, declines=30)
    texts = [r["text"] for r in account.truth("responses")]
    assert texts.count("") > 10 and texts.count(None) > 10  # the sandbox sends both, on a column loaded via Arrow
    server = start_sandbox(account)
    done = run_cli(warehouse.args, workdir, sandbox_env(server))
    assert done.returncode == 0, done.stderr
    for table in TABLES:
        assert_exact(table, account.truth(table), warehouse.read(table))  # '' and NULL compared strictly
    landed = {row["id"]: row["text"] for row in warehouse.read("responses")}
    for rec in account.truth("responses"):
        assert landed[rec["id"]] == rec["text"] and type(landed[rec["id"]]) is type(rec["text"]), rec["id"]


def test_postgres_without_a_password_loads(workdir: Path, start_sandbox) -> None:
    """The DSN of a trust-authenticated server (no password) was refused, naming DESTINATION__CREDENTIALS__PASSWORD."""
    account = generate_account(seed=32, end_users=30, responses=200, declines=20)
    server = start_sandbox(account)
    dataset = f"trust_{uuid.uuid4().hex[:8]}"
    env = sandbox_env(server, DESTINATION__POSTGRES__CREDENTIALS=without_password(PG_DSN))
    try:
        done = run_cli(["--destination", "postgres", "--dataset-name", dataset], workdir, env)
        assert done.returncode == 0, done.stderr
        for table in TABLES:
            assert_exact(table, account.truth(table), read_postgres(dataset, table))
    finally:
        drop_postgres_dataset(dataset)


def run_without_default_credentials(workdir: Path, env: Dict[str, str], credentials: Optional[str]):
    """The CLI with DESTINATION__POSTGRES__CREDENTIALS as given, or unset (the test helper sets it by default)."""
    command, full_env = _cli(["--destination", "postgres"], workdir, env, "wootric_pipeline.py")
    full_env.pop("DESTINATION__POSTGRES__CREDENTIALS")
    if credentials is not None:
        full_env["DESTINATION__POSTGRES__CREDENTIALS"] = credentials
    return subprocess.run(command, cwd=workdir, env=full_env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    "credentials, expected",
    [
        (None, "missing configuration: set DESTINATION__POSTGRES__CREDENTIALS=postgresql://"),
        (f"postgresql://loader:{SECRET}@127.0.0.1:5432", "the Postgres credentials have no database"),
        (f"not-a-dsn-{SECRET}", "DESTINATION__POSTGRES__CREDENTIALS is not a connection string"),
    ],
    ids=["unset", "no database", "not a connection string"],
)
def test_postgres_credentials_errors_name_the_documented_variable(
    workdir: Path, start_sandbox, credentials: Optional[str], expected: str
) -> None:
    server = start_sandbox(generate_account(seed=33, end_users=5, responses=10, declines=1))
    done = run_without_default_credentials(workdir, sandbox_env(server), credentials)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, done.stderr
    assert expected in errors[0], errors[0]
    assert "DESTINATION__POSTGRES__CREDENTIALS" in errors[0]
    assert "DESTINATION__CREDENTIALS" not in errors[0]
    assert SECRET not in done.stderr + done.stdout
    assert server.stats()["requests"] == 0, "the destination is checked before anything is extracted"
