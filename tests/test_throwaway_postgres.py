"""Where no PostgreSQL answers, the tests start their own from the installed binaries and remove it."""

import importlib.util
import shutil
import socket
import sys
from pathlib import Path

import psycopg2
import pytest

from tests.support import postgres

#: the dev extra installs pgserver below Python 3.13 only: it has no build for 3.13 (pyproject.toml)
needs_pgserver = pytest.mark.skipif(sys.version_info >= (3, 13), reason="pgserver has no build for Python 3.13")


def test_a_closed_port_gets_a_throwaway_server_that_is_removed_afterwards(monkeypatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    monkeypatch.setenv("FEEDBACK_TEST_POSTGRES", f"postgresql://postgres@127.0.0.1:{closed}/test")
    started = []
    monkeypatch.setattr(postgres.atexit, "register", started.append)
    dsn = postgres.session_dsn()
    (stop,) = started
    server = stop.__self__
    try:
        assert dsn.startswith("postgresql://postgres@127.0.0.1:") and str(closed) not in dsn
        with psycopg2.connect(dsn) as con, con.cursor() as cur:
            cur.execute("CREATE TABLE t (s text); INSERT INTO t VALUES (''); SELECT s FROM t")
            assert cur.fetchall() == [("",)]
    finally:
        stop()
    assert not postgres.answers(dsn)
    assert not server.root.exists()


@needs_pgserver
def test_the_binaries_of_the_pgserver_dev_dependency_start_a_server_too() -> None:
    # a laptop without PostgreSQL installed has only these
    spec = importlib.util.find_spec("pgserver")
    assert spec is not None and spec.origin, "pgserver is a dev dependency (pyproject.toml)"
    server = postgres.ThrowawayPostgres(Path(spec.origin).parent / "pginstall" / "bin")
    try:
        dsn = server.start()
        with psycopg2.connect(dsn) as con, con.cursor() as cur:
            cur.execute("SELECT current_database()")
            assert cur.fetchone() == ("test",)
    finally:
        server.stop()
    assert not server.root.exists()


@needs_pgserver
def test_pgserver_binaries_inside_a_private_folder_still_start_a_server(tmp_path: Path) -> None:
    # CI's venv lives in a `mktemp -d` folder (mode 700): as root, the server user cannot reach it
    site = Path(importlib.util.find_spec("pgserver").origin).parents[1]
    private = tmp_path / "private"
    for name in ("pgserver", "pgserver.libs"):
        shutil.copytree(site / name, private / "site" / name, symlinks=True)
    private.chmod(0o700)
    server = postgres.ThrowawayPostgres(private / "site" / "pgserver" / "pginstall" / "bin")
    try:
        with psycopg2.connect(server.start()) as con, con.cursor() as cur:
            cur.execute("SELECT 1")
            assert cur.fetchone() == (1,)
    finally:
        server.stop()
