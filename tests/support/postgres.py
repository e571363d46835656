"""The PostgreSQL the tests load into: the configured one when it answers, else a throwaway server
started from the installed binaries for this test run and removed afterwards.

`FEEDBACK_TEST_POSTGRES` names the server (default: 127.0.0.1:5432, database `test`, as on CI). The
throwaway server listens on a free loopback port only.
"""

import atexit
import glob
import importlib.util
import logging
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Callable, List, Optional

import psycopg2

DEFAULT_DSN = "postgresql://postgres:postgres@127.0.0.1:5432/test"
#: seconds a throwaway server may take to accept connections
START_TIMEOUT = 60.0

logger = logging.getLogger(__name__)


def answers(dsn: str) -> bool:
    try:
        psycopg2.connect(dsn, connect_timeout=3).close()
        return True
    except psycopg2.OperationalError:
        return False


def find_bindir() -> Optional[Path]:
    """`initdb` and `postgres` from PATH, `pg_config --bindir`, Debian's versioned folders, or the
    binaries the `pgserver` dev dependency ships (found without importing it: its import has side effects)."""
    candidates: List[str] = []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(os.path.dirname(on_path))
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=False)
        candidates.append(out.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version, reverse=True)
    bundled = importlib.util.find_spec("pgserver")
    if bundled is not None and bundled.origin:
        candidates.append(str(Path(bundled.origin).parent / "pginstall" / "bin"))
    for folder in candidates:
        if folder and (Path(folder) / "initdb").exists() and (Path(folder) / "postgres").exists():
            return Path(folder)
    return None


class ThrowawayPostgres:
    """initdb into a temporary folder, a server on a free loopback port with trust auth, database `test`."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="feedback-pg-"))
        self.port = _free_port()
        self.process: Optional[subprocess.Popen] = None
        self.dsn = f"postgresql://postgres@127.0.0.1:{self.port}/test"

    def start(self) -> str:
        drop, owner = _unprivileged()
        data = self.root / "data"
        data.mkdir()
        if owner is not None:
            for path in (self.root, data):
                os.chown(path, owner.pw_uid, owner.pw_gid)
            if not _traversable(self.bindir, owner):
                # a venv inside a private folder (`mktemp -d`): give the server user a copy it can run
                self.bindir = _copy_bundle(self.bindir, self.root / "bundle")
        init = [str(self.bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
        init.append("--no-sync")  # a throwaway cluster: durability is not the point
        subprocess.run(init, check=True, capture_output=True, preexec_fn=drop)
        server = [str(self.bindir / "postgres"), "-D", str(data), "-p", str(self.port), "-k", str(self.root)]
        server += ["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"]
        log = open(self.root / "server.log", "wb")  # noqa: SIM115 - the server writes to it until stop()
        self.process = subprocess.Popen(server, stdout=log, stderr=log, preexec_fn=drop)
        admin = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        deadline = time.monotonic() + START_TIMEOUT
        while not answers(admin):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the throwaway PostgreSQL did not start; see {self.root / 'server.log'}")
            time.sleep(0.2)
        con = psycopg2.connect(admin)
        con.autocommit = True
        con.cursor().execute("CREATE DATABASE test")
        con.close()
        return self.dsn

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # fast shutdown: open connections do not hold it up
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.root, ignore_errors=True)


def session_dsn() -> str:
    """The DSN for this test run; starts (and registers the removal of) a throwaway server when needed."""
    dsn = os.environ.get("FEEDBACK_TEST_POSTGRES", DEFAULT_DSN)
    if answers(dsn):
        return dsn
    bindir = find_bindir()
    if bindir is None:
        raise RuntimeError(
            f"no PostgreSQL answers at {dsn} and no PostgreSQL binaries were found to start one:"
            " install PostgreSQL (initdb/postgres) or set FEEDBACK_TEST_POSTGRES"
        )
    server = ThrowawayPostgres(bindir)
    atexit.register(server.stop)
    logger.warning("no PostgreSQL at %s: started a throwaway server for this run", dsn)
    return server.start()


def _unprivileged() -> "tuple[Optional[Callable[[], None]], Optional[pwd.struct_passwd]]":
    """PostgreSQL refuses to run as root: as root, run it as the `postgres` user."""
    if os.geteuid() != 0:
        return None, None
    try:
        owner = pwd.getpwnam("postgres")
    except KeyError:
        raise RuntimeError("running as root without a `postgres` user to start PostgreSQL as") from None

    def drop() -> None:
        os.setgid(owner.pw_gid)
        os.setuid(owner.pw_uid)

    return drop, owner


def _copy_bundle(bindir: Path, into: Path) -> Path:
    """Copy pgserver's PostgreSQL (`<site>/pgserver/pginstall`) with the libraries its binaries find
    through their RPATH (`$ORIGIN/../../../pgserver.libs`), keeping that layout."""
    site = bindir.parents[2]
    for part in [bindir.parent.relative_to(site), *(p.relative_to(site) for p in site.glob("pgserver*.libs"))]:
        shutil.copytree(site / part, into / part, symlinks=True)
    return into / bindir.relative_to(site)


def _traversable(folder: Path, owner: "pwd.struct_passwd") -> bool:
    """Whether `owner` may reach and run what is in `folder` (each parent searchable by that user)."""
    path = folder.resolve()
    for part in [path, *path.parents]:
        st = part.stat()
        bit = stat.S_IXUSR if st.st_uid == owner.pw_uid else stat.S_IXGRP if st.st_gid == owner.pw_gid else stat.S_IXOTH
        if not st.st_mode & bit:
            return False
    return True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _version(folder: str) -> float:
    try:
        return float(Path(folder).parent.name)
    except ValueError:
        return 0.0
