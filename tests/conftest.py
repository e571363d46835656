"""Fixtures: a sandbox per test, an isolated working directory, and the CLI as a user runs it."""

import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Tuple

import pytest

from sandbox.woku import WokuSandboxServer
from sandbox.wootric import SandboxServer
from tests.support import bigquery, netguard
from tests.support.warehouse import PG_DSN, drop_postgres_dataset, read_duckdb, read_postgres

ROOT = Path(__file__).resolve().parents[1]
netguard.install()  # this process too: loopback only
_CONFIG_PREFIXES = ("SOURCES__", "DESTINATION__", "NORMALIZE__", "LOAD__", "EXTRACT__", "DATA_WRITER__", "RUNTIME__")


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: two workers per core. An end-to-end test spends much of its time waiting (on its CLI
    subprocess's I/O, a held sandbox answer, a backoff); a second worker per core uses that time."""
    return 2 * (os.cpu_count() or 1)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory with no `.dlt` folder and its own dlt data dir."""
    for key in list(os.environ):
        if key.startswith(_CONFIG_PREFIXES):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "dlt-data"))
    return tmp_path


def _servers(server_class: Any) -> Iterator[Callable[..., Any]]:
    """Start sandboxes of one vendor on demand; every one is stopped after the test."""
    servers: List[Any] = []

    def start(data: Any, **kwargs: Any) -> Any:
        server = server_class(data, **kwargs)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def start_sandbox() -> Iterator[Callable[..., SandboxServer]]:
    """Wootric sandboxes, stopped after the test."""
    yield from _servers(SandboxServer)


def sandbox_env(server: SandboxServer, **extra: str) -> Dict[str, str]:
    """Configuration through environment variables only, as a scheduler would pass it."""
    env = {
        "SOURCES__WOOTRIC__BASE_URL": server.url,
        "SOURCES__WOOTRIC__CREDENTIALS__CLIENT_ID": server.client_id,
        "SOURCES__WOOTRIC__CREDENTIALS__CLIENT_SECRET": server.client_secret,
    }
    env.update(extra)
    return env


def _cli(args: List[str], cwd: Path, env: Dict[str, str], script: str) -> Tuple[List[str], Dict[str, str]]:
    """The command line and environment of `python pipelines/SCRIPT ARGS` run from `cwd`."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(_CONFIG_PREFIXES)}
    full_env.update(env)
    full_env.setdefault("DLT_DATA_DIR", str(cwd / "dlt-data"))
    full_env.setdefault("DESTINATION__POSTGRES__CREDENTIALS", PG_DSN)
    if "BIGQUERY_EMULATOR_HOST" in full_env:  # set by the `bigquery` warehouse: its project id goes with it
        full_env.setdefault("DESTINATION__BIGQUERY__CREDENTIALS__PROJECT_ID", bigquery.PROJECT)
    # the subprocess refuses any connection off this machine (tests/support/netguard.py)
    guard = str(ROOT / "tests" / "support" / "loopback_only")
    full_env["PYTHONPATH"] = os.pathsep.join(p for p in (guard, full_env.get("PYTHONPATH")) if p)
    return [sys.executable, str(ROOT / "pipelines" / script), *args], full_env


def run_cli(
    args: List[str], cwd: Path, env: Dict[str, str], timeout: float = 600, script: str = "wootric_pipeline.py"
) -> subprocess.CompletedProcess:
    command, full_env = _cli(args, cwd, env, script)
    return subprocess.run(command, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout)


def start_cli(args: List[str], cwd: Path, env: Dict[str, str], script: str = "wootric_pipeline.py") -> subprocess.Popen:
    command, full_env = _cli(args, cwd, env, script)
    return subprocess.Popen(command, cwd=cwd, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def woku_env(server: Any, **extra: str) -> Dict[str, str]:
    """The Woku sandbox as the pipeline's configuration, through environment variables only."""
    env = {"SOURCES__WOKU__BASE_URL": server.url, "SOURCES__WOKU__CREDENTIALS__API_KEY": server.api_key}
    env.update(extra)
    return env


@pytest.fixture
def start_woku() -> Iterator[Callable[..., WokuSandboxServer]]:
    """Woku sandboxes, stopped after the test."""
    yield from _servers(WokuSandboxServer)


@dataclass
class Warehouse:
    """Where a test loads: the CLI arguments that select it, and how to read a table back."""

    name: str
    args: List[str]
    read: Callable[[str], List[Dict[str, Any]]]


#: the `warehouse` fixture's parameters for a test that runs on the BigQuery emulator too:
#: `@pytest.mark.parametrize("warehouse", WITH_BIGQUERY, indirect=True)` (a few chosen tests: time)
WITH_BIGQUERY = ["duckdb", "postgres", "bigquery"]


def only_on(name: str, fixture: str = "warehouse") -> pytest.MarkDecorator:
    """For a test whose subject is the same on every warehouse (HTTP faults, tokens, paging, a refused
    account, a second vendor on a path tested on each): one is enough; the tests left on the fixture's
    default parameters prove every load exact on each warehouse."""
    return pytest.mark.parametrize(fixture, [name], indirect=True)


@pytest.fixture(scope="session")
def bigquery_emulator() -> Iterator[bigquery.Emulator]:
    """One BigQuery emulator per test session (per xdist worker), started on first use."""
    emulator = bigquery.Emulator().start()
    yield emulator
    emulator.stop()


def _warehouse(request: pytest.FixtureRequest, workdir: Path, duckdb_dataset: str) -> Iterator[Warehouse]:
    kind = request.param
    if kind == "duckdb":
        yield Warehouse(
            "duckdb", ["--destination", "duckdb"], lambda t: read_duckdb(workdir / "feedback.duckdb", duckdb_dataset, t)
        )
        return
    dataset = f"e2e_{uuid.uuid4().hex[:10]}"
    if kind == "bigquery":
        emulator = request.getfixturevalue("bigquery_emulator")
        request.getfixturevalue("monkeypatch").setenv("BIGQUERY_EMULATOR_HOST", emulator.url)
        args = ["--destination", "bigquery", "--dataset-name", dataset]
        try:
            yield Warehouse("bigquery", args, lambda t: emulator.read(dataset, t))
        finally:
            emulator.drop_datasets(dataset)
        return
    try:
        yield Warehouse(
            "postgres", ["--destination", "postgres", "--dataset-name", dataset], lambda t: read_postgres(dataset, t)
        )
    finally:
        drop_postgres_dataset(dataset)


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse(request: pytest.FixtureRequest, workdir: Path) -> Iterator[Warehouse]:
    """Every end-to-end load runs on DuckDB and on the real PostgreSQL (its own schema, dropped after);
    tests parametrized with WITH_BIGQUERY also on the BigQuery emulator (its own dataset, dropped after)."""
    yield from _warehouse(request, workdir, "wootric")


@pytest.fixture(params=["duckdb", "postgres"])
def woku_warehouse(request: pytest.FixtureRequest, workdir: Path) -> Iterator[Warehouse]:
    """The same for the Woku pipeline, whose DuckDB dataset is `woku`."""
    yield from _warehouse(request, workdir, "woku")
