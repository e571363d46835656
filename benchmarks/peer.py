"""The peer of the benchmark: Singer's ``tap-wootric`` piped into ``target-duckdb``, run as
Stitch/Meltano users run it, against the same sandbox and data as our pipeline.

- ``ensure_peer(cache_dir)`` builds (once, then reuses) two separate virtualenvs, one for the tap
  and one for the target, since their dependency pins conflict with each other and with ours.
- ``peer_command(env, sandbox_url, workdir, ...)`` writes both configs into ``workdir`` and returns
  the shell pipeline to run with ``subprocess`` (``shell=True``).
- ``peer_landed(workdir)`` reads the ids that landed per stream from ``workdir/peer.duckdb``.

The tap is installed unmodified; ``peer_tap_runner.py`` redirects its hard-coded
``https://api.wootric.com`` to the sandbox from the outside. The tap reads only the
``2016-12-16 09:05:00 -0800`` timestamp style, so its sandbox must run with ``--styles space``
(``generate_account(..., styles=("space",))``): with the API's default mix it crashes on the
first other style (``ValueError: time data '2023-01-01 ...-08:00' does not match format ...``).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# Versions verified end to end on Python 3.11. tap-wootric 0.5.3 (latest) pins singer-python==5.9.0,
# requests==2.20.0 and backoff==1.8.0; they all install from wheels/sdists on 3.11 as they are.
# The rest pins what those resolved to when verified, so a rebuild gets the same peer.
TAP_REQUIREMENTS: tuple[str, ...] = (
    "tap-wootric==0.5.3",
    "singer-python==5.9.0",
    "requests==2.20.0",
    "backoff==1.8.0",
    "urllib3==1.24.3",
    "idna==2.7",
    "chardet==3.0.4",
    "jsonschema==2.6.0",
    "simplejson==3.11.1",
    "pytz==2018.4",
    "ciso8601==2.4.1",
)
# target-duckdb 0.8.0 (latest) runs on duckdb 2.0.0, the same major version as the project.
TARGET_REQUIREMENTS: tuple[str, ...] = ("target-duckdb==0.8.0", "duckdb==2.0.0", "jsonschema==4.26.0")

TARGET_SCHEMA = "wootric"
STREAMS: tuple[str, ...] = ("end_users", "responses", "declines")
RUNNER = Path(__file__).resolve().with_name("peer_tap_runner.py")
_MARKER = ".peer-requirements"


@dataclass(frozen=True)
class PeerEnv:
    tap_python: Path  # python of the tap venv (runs peer_tap_runner.py)
    target: Path  # the target-duckdb console script of the target venv
    tap_venv: Path
    target_venv: Path


def _venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _marker_text(requirements: tuple[str, ...]) -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}\n" + "\n".join(requirements) + "\n"


def _works(venv: Path, requirements: tuple[str, ...], probe: str) -> bool:
    marker = venv / _MARKER
    if not marker.is_file() or marker.read_text() != _marker_text(requirements):
        return False
    try:
        done = subprocess.run([str(_venv_python(venv)), "-c", probe], capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _build(venv: Path, requirements: tuple[str, ...]) -> None:
    if venv.exists():
        shutil.rmtree(venv)
    python3 = shutil.which("python3") or sys.executable
    subprocess.run([python3, "-m", "venv", str(venv)], check=True)
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    done = subprocess.run(
        [str(_venv_python(venv)), "-m", "pip", "install", "-q", *requirements],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"pip install {' '.join(requirements)} failed in {venv}:\n{done.stderr[-4000:]}")
    (venv / _MARKER).write_text(_marker_text(requirements))


def ensure_peer(cache_dir: Path) -> PeerEnv:
    """Create (once) ``cache_dir/tap-venv`` with tap-wootric and ``cache_dir/target-venv`` with
    target-duckdb; venvs whose pins match and that import are reused as they are."""
    cache_dir = Path(cache_dir).resolve()
    cache_dir.mkdir(parents=True, exist_ok=True)
    tap_venv, target_venv = cache_dir / "tap-venv", cache_dir / "target-venv"
    if not _works(tap_venv, TAP_REQUIREMENTS, "import tap_wootric, requests, singer"):
        _build(tap_venv, TAP_REQUIREMENTS)
    if not _works(target_venv, TARGET_REQUIREMENTS, "import target_duckdb, duckdb"):
        _build(target_venv, TARGET_REQUIREMENTS)
    target = target_venv / "bin" / "target-duckdb"
    if not target.is_file():
        raise RuntimeError(f"{target} is missing after installing {TARGET_REQUIREMENTS[0]}")
    return PeerEnv(tap_python=_venv_python(tap_venv), target=target, tap_venv=tap_venv, target_venv=target_venv)


def peer_command(
    env: PeerEnv,
    sandbox_url: str,
    workdir: Path,
    *,
    client_id: str = "sandbox-client",
    client_secret: str = "sandbox-secret",
    start_date: str = "2000-01-01T00:00:00Z",
) -> str:
    """Write ``tap.json`` and ``target.json`` into ``workdir`` and return the shell pipeline
    ``tap | target > state.json`` (absolute paths, for ``subprocess.run(cmd, shell=True)``).

    Logs go to ``workdir/tap.log`` and ``workdir/target.log`` (the tap logs one line per request).
    ``/bin/sh`` has no ``pipefail``, so the tap's own exit status is kept in ``workdir/tap.rc``
    and the pipeline exits with it when it is non-zero (the target alone would exit 0 after a tap
    crash, having loaded whatever arrived before it). ``workdir/emitted.json`` counts the RECORD
    messages the tap emitted per stream (see ``peer_tap_runner.py``).
    """
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    for name in ("peer.duckdb", "peer.duckdb.wal", "state.json", "tap.rc", "emitted.json"):
        (workdir / name).unlink(missing_ok=True)
    tap_cfg, target_cfg = workdir / "tap.json", workdir / "target.json"
    tap_cfg.write_text(
        json.dumps({"client_id": client_id, "client_secret": client_secret, "start_date": start_date}, indent=2)
    )
    target_cfg.write_text(
        json.dumps({"path": str(workdir / "peer.duckdb"), "default_target_schema": TARGET_SCHEMA}, indent=2)
    )
    q = shlex.quote
    tap = (
        f"{q(str(env.tap_python))} {q(str(RUNNER))} --sandbox-url {q(sandbox_url)}"
        f" --emitted {q(str(workdir / 'emitted.json'))} --config {q(str(tap_cfg))}"
    )
    target = f"{q(str(env.target))} --config {q(str(target_cfg))}"
    rc_file = q(str(workdir / "tap.rc"))
    return (
        f"{{ {tap} 2> {q(str(workdir / 'tap.log'))}; echo $? > {rc_file}; }}"
        f" | {target} > {q(str(workdir / 'state.json'))} 2> {q(str(workdir / 'target.log'))};"
        f' rc=$?; read tap_rc < {rc_file}; [ "$tap_rc" = 0 ] || exit "$tap_rc"; exit "$rc"'
    )


def peer_landed(workdir: Path) -> dict[str, list]:
    """Ids per stream in ``workdir/peer.duckdb`` (tables ``wootric.end_users|responses|declines``;
    a stream whose table was never created, e.g. after a crash, maps to ``[]``). Ids are listed
    once per row, so duplicates would show."""
    import duckdb

    path = Path(workdir) / "peer.duckdb"
    out: dict[str, list] = {s: [] for s in STREAMS}
    if not path.exists():
        return out
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = {
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = ?", [TARGET_SCHEMA]
            ).fetchall()
        }
        for stream in STREAMS:
            if stream in tables:
                rows = con.execute(f'select id from "{TARGET_SCHEMA}"."{stream}" order by id').fetchall()
                out[stream] = [int(i) for (i,) in rows]
    finally:
        con.close()
    return out


def peer_emitted(workdir: Path) -> dict[str, dict[str, int]]:
    """RECORD messages the tap emitted per stream (``{"records": N, "unique_ids": M}``), {} if none."""
    path = Path(workdir) / "emitted.json"
    return json.loads(path.read_text()) if path.is_file() else {}
