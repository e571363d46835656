"""A BigQuery emulator for the tests: bqemulator (BigQuery's REST API on DuckDB) on a free loopback port.

It runs in a process of its own, under the same loopback-only guard as every CLI subprocess
(`loopback_only/sitecustomize.py`). At start it would download DuckDB's `spatial` and `avro`
extensions: both loaders are replaced by no-ops first, so nothing leaves the machine. One emulator
serves a whole test session (each xdist worker starts its own, in about two seconds); each test
loads into datasets of its own and drops them after.

What the emulator does not do as BigQuery does: it ignores partitioning and clustering (the hints
dlt sends are asserted in tests/pipelines/test_bigquery.py), keeps no DML quotas or concurrency
limits, and is not BigQuery's speed. One gap is mended here: it did not show a column added by
`ALTER TABLE` (verify's `deleted_at`) in its catalog.
"""

import fcntl
import importlib.util
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import requests

from tests.support.postgres import _free_port

logger = logging.getLogger(__name__)
PROJECT = "feedback-tests"
#: what the emulator's own virtualenv holds (it needs numpy and does not declare it)
REQUIREMENTS = ("bqemulator>=1.4,<2", "numpy>=1.26")
_VENV = Path(__file__).resolve().parents[2] / ".venv-bqemulator"
#: seconds making that virtualenv may take (about a minute here)
SETUP_TIMEOUT = 600
#: seconds the emulator may take to answer (it starts in about two on this machine)
START_TIMEOUT = 60.0
_GUARD = Path(__file__).resolve().parent / "loopback_only"
_START = """
import sys
from bqemulator.storage.engine import DuckDBEngine
DuckDBEngine._load_spatial = lambda self: None  # would INSTALL spatial from the internet
DuckDBEngine._load_format_extensions = lambda self: None  # would INSTALL avro

# bqemulator 1.4 runs `ALTER TABLE ... ADD COLUMN` in DuckDB but leaves its catalog (tables.get,
# INFORMATION_SCHEMA) as it was; BigQuery shows the column at once. Read the table again after one.
import sqlglot
from sqlglot import exp
from bqemulator.catalog import ddl_sync
from bqemulator.jobs import executor

def sync_created_or_altered(bq_sql, project_id, ctx):
    ddl_sync.sync_created_table(bq_sql, project_id, ctx)
    try:
        tree = sqlglot.parse_one(bq_sql, read="bigquery")
    except sqlglot.errors.ParseError:
        return
    if isinstance(tree, exp.Alter) and isinstance(tree.this, exp.Table):
        p, d, t = ddl_sync._split_target(tree.this, project_id)
        meta = ctx.catalog.get_table(p, d, t)
        if meta is not None:
            schema = ddl_sync._introspect_schema(p, d, t, ctx)
            ctx.catalog.update_table(meta.model_copy(update={"schema_": schema}))

executor.sync_created_table = sync_created_or_altered
from bqemulator.cli import main
sys.argv = ["bqemulator", "start", "--rest-host", "127.0.0.1", "--rest-port", sys.argv[1], "--grpc-host", "127.0.0.1",
            "--grpc-port", "0", "--ephemeral", "--project", sys.argv[2], "--log-level", "warning"]
main()
"""


def emulator_python() -> str:
    """A Python that runs bqemulator: `FEEDBACK_BQEMULATOR_PYTHON`, this one if it has it, else the
    virtualenv `.venv-bqemulator` at the checkout's root, made on first use (bounded, logged).

    bqemulator pins sqlglot below 30.12 and fakesnow (the tests' Snowflake) pins 30.22, so the two
    cannot share the dev extra's environment; the emulator is a server of its own anyway."""
    configured = os.environ.get("FEEDBACK_BQEMULATOR_PYTHON")
    if configured:
        return configured
    if importlib.util.find_spec("bqemulator") is not None and importlib.util.find_spec("numpy") is not None:
        return sys.executable
    python = _VENV / "bin" / "python"
    with open(f"{_VENV}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # xdist workers: one makes it, the others wait for it
        if not python.exists():
            logger.warning("making %s for the BigQuery emulator; up to %ss", _VENV, SETUP_TIMEOUT)
            subprocess.run([sys.executable, "-m", "venv", str(_VENV)], check=True, timeout=SETUP_TIMEOUT)
            subprocess.run(
                [str(python), "-m", "pip", "install", "-q", *REQUIREMENTS],
                check=True,
                timeout=SETUP_TIMEOUT,
                capture_output=True,
            )
    return str(python)


class Emulator:
    """bqemulator in a subprocess; `url` is what BIGQUERY_EMULATOR_HOST takes."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = Path(tempfile.mkdtemp(prefix="feedback-bqemu-")) / "emulator.log"
        self.process: Optional[subprocess.Popen] = None
        self.started_in = 0.0

    def start(self) -> "Emulator":
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_GUARD), env.get("PYTHONPATH")) if p)
        python = emulator_python()
        began = time.monotonic()
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [python, "-c", _START, str(self.port), PROJECT], stdout=log, stderr=log, env=env
            )
        while not self._ready():
            if self.process.poll() is not None or time.monotonic() - began > START_TIMEOUT:
                self.stop()
                raise RuntimeError(f"bqemulator did not answer within {START_TIMEOUT:.0f}s; see {self.log}")
            time.sleep(0.1)
        self.started_in = time.monotonic() - began
        return self

    def _ready(self) -> bool:
        try:
            return requests.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)

    def client(self) -> Any:
        return client(self.url)

    def query(self, sql: str) -> List[Dict[str, Any]]:
        return query(sql, self.url)

    def read(self, dataset: str, table: str) -> List[Dict[str, Any]]:
        return query(f"SELECT * FROM `{PROJECT}.{dataset}.{table}`", self.url)

    def drop_datasets(self, dataset: str) -> None:
        """The dataset and every staging dataset dlt made beside it (`<dataset>_staging*`)."""
        client = self.client()
        for found in client.list_datasets():
            if found.dataset_id == dataset or found.dataset_id.startswith(f"{dataset}_staging"):
                client.delete_dataset(found.dataset_id, delete_contents=True, not_found_ok=True)


def client(url: str) -> Any:
    """A google-cloud-bigquery client of the emulator at `url` (a placeholder token: it checks none)."""
    from google.api_core.client_options import ClientOptions
    from google.cloud import bigquery
    from google.oauth2.credentials import Credentials

    return bigquery.Client(
        project=PROJECT, credentials=Credentials(token="tests"), client_options=ClientOptions(api_endpoint=url)
    )


def query(sql: str, url: Optional[str] = None) -> List[Dict[str, Any]]:
    """Rows as dicts (JSON columns come back as their values, timestamps in UTC); by default from the
    emulator the `bigquery` warehouse fixture points BIGQUERY_EMULATOR_HOST at."""
    return [dict(row.items()) for row in client(url or os.environ["BIGQUERY_EMULATOR_HOST"]).query(sql).result()]


def env(emulator: Emulator) -> Dict[str, str]:
    """What a user sets to load into the emulator: its host and a project id, no Google credentials."""
    return {"BIGQUERY_EMULATOR_HOST": emulator.url, "DESTINATION__BIGQUERY__CREDENTIALS__PROJECT_ID": PROJECT}
