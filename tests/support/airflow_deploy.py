"""A real Airflow 3 deployment on loopback, as users run one: the API server, the scheduler and the DAG
processor as separate processes (Celery workers too, if asked), a metadata database of its own in the
test PostgreSQL, and every task in a process of its own (LocalExecutor or CeleryExecutor).

Airflow's migrations run once per Airflow version into a template database (kept, like a cache, under
`feedback_airflow_tpl_<version>`); each deployment copies it with `CREATE DATABASE ... TEMPLATE` and drops
its copy at teardown. Runs are triggered through the REST API and followed in the metadata database.
"""

import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional

import psutil
import psycopg2
import requests

from tests.support.postgres import session_dsn

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
GUARD = ROOT / "tests" / "support" / "loopback_only"  # every Airflow process refuses non-loopback connections
#: seconds the migrations, the start (API up, DAGs serialized) and the teardown may take on a loaded machine
MIGRATE_TIMEOUT, START_TIMEOUT, STOP_TIMEOUT = 600.0, 300.0, 60.0
_FOREIGN = ("AIRFLOW", "SOURCES__", "DESTINATION__", "NORMALIZE__", "LOAD__", "EXTRACT__", "DATA_WRITER__", "DLT_")


def worker_name() -> str:
    """`[core] hostname_callable`: a Celery worker's own name in `task_instance.hostname` (one machine, one
    FQDN otherwise); also keeps Airflow from resolving the machine's name, which the loopback guard refuses."""
    return os.environ.get("FEEDBACK_AIRFLOW_WORKER") or socket.gethostname()


def _admin(dsn: str, database: str = "postgres") -> Any:
    con = psycopg2.connect(dsn.rsplit("/", 1)[0] + "/" + database)
    con.autocommit = True
    return con


def _execute(sql: str) -> None:
    con = _admin(session_dsn())
    try:
        con.cursor().execute(sql)
    finally:
        con.close()


def _dsn_parts() -> Dict[str, str]:
    dsn = psycopg2.extensions.parse_dsn(session_dsn())
    return {"host": dsn.get("host", "127.0.0.1"), "port": dsn.get("port", "5432"), "user": dsn.get("user", "postgres")}


def _sqlalchemy_url(database: str) -> str:
    p = _dsn_parts()
    return f"postgresql+psycopg2://{p['user']}@{p['host']}:{p['port']}/{database}"


def _base_env() -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_FOREIGN)}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(GUARD), env.get("PYTHONPATH")) if p)
    env["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    env["AIRFLOW__CORE__HOSTNAME_CALLABLE"] = "tests.support.airflow_deploy.worker_name"
    return env


def template_database() -> str:
    """The migrated template for this Airflow version: made once (under a lock, renamed into place only
    when `airflow db migrate` succeeded), then reused by every deployment on this server."""
    name = "feedback_airflow_tpl_" + version("apache-airflow-core").replace(".", "_")
    con = _admin(session_dsn())
    try:
        cur = con.cursor()
        cur.execute("SELECT pg_advisory_lock(hashtext(%s))", [name])
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cur.fetchone():
            return name
        partial = name + "_partial"
        cur.execute(f'DROP DATABASE IF EXISTS "{partial}"')
        cur.execute(f'CREATE DATABASE "{partial}"')
        home = Path(os.environ.get("TMPDIR", "/tmp")) / f"airflow-migrate-{uuid.uuid4().hex[:8]}"
        env = {**_base_env(), "AIRFLOW_HOME": str(home)}
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = _sqlalchemy_url(partial)
        started = time.monotonic()
        logger.info("migrating Airflow's metadata database into the template %s", name)
        done = subprocess.run(
            [sys.executable, "-m", "airflow", "db", "migrate"],
            env=env,
            capture_output=True,
            text=True,
            timeout=MIGRATE_TIMEOUT,
        )
        shutil.rmtree(home, ignore_errors=True)
        if done.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed:\n{done.stderr[-3000:]}")
        cur.execute(f'ALTER DATABASE "{partial}" RENAME TO "{name}"')
        logger.info("template %s migrated in %.0f s", name, time.monotonic() - started)
        return name
    finally:
        con.close()  # ends the session, and with it the advisory lock


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Deployment:
    """A running deployment: its processes, its metadata database, and helpers to drive runs."""

    home: Path
    database: str
    port: int
    env: Dict[str, str]
    processes: Dict[str, subprocess.Popen] = field(default_factory=dict)
    _token: Optional[str] = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def query(self, sql: str, args: Iterable[Any] = ()) -> List[Dict[str, Any]]:
        """Rows of the metadata database as dicts (a fresh connection each time: no transaction held)."""
        con = _admin(session_dsn(), self.database)
        try:
            cur = con.cursor()
            cur.execute(sql, list(args))
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        finally:
            con.close()

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """The REST API as an admin (the simple auth manager hands every caller an admin token here)."""
        if self._token is None:
            got = requests.get(f"{self.url}/auth/token", timeout=30)
            got.raise_for_status()
            self._token = got.json()["access_token"]
        reply = requests.request(
            method, self.url + path, headers={"Authorization": f"Bearer {self._token}"}, timeout=60, **kwargs
        )
        assert reply.ok, f"{method} {path}: {reply.status_code} {reply.text[:500]}"
        return reply.json() if reply.content else None

    def set_variable(self, key: str, value: str) -> None:
        """An Airflow Variable, read by tasks at run time (dlt reads `dlt_secrets_toml` as a secrets.toml)."""
        if self.query("SELECT 1 FROM variable WHERE key = %s", [key]):
            self.api("PATCH", f"/api/v2/variables/{key}", json={"key": key, "value": value})
        else:
            self.api("POST", "/api/v2/variables", json={"key": key, "value": value})

    def trigger(self, dag_id: str, conf: Optional[Dict[str, Any]] = None) -> str:
        """A manual run, as `airflow dags trigger` makes one; returns its run id."""
        run = self.api("POST", f"/api/v2/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf or {}})
        logger.info("triggered %s run %s", dag_id, run["dag_run_id"])
        return run["dag_run_id"]

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"airflow {name} exited with {process.returncode}:\n{self.log_tail(name)}")

    def log_tail(self, name: str, chars: int = 3000) -> str:
        path = self.home / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 300.0) -> str:
        """Poll the run's state until it is final; logs progress, raises with the task states at the deadline."""
        started = time.monotonic()
        logged = started
        while True:
            rows = self.query("SELECT state FROM dag_run WHERE dag_id = %s AND run_id = %s", [dag_id, run_id])
            state = rows[0]["state"] if rows else None
            if state in ("success", "failed"):
                logger.info("%s %s: %s after %.0f s", dag_id, run_id, state, time.monotonic() - started)
                return state
            self.check_alive()
            now = time.monotonic()
            if now - started > timeout:
                raise TimeoutError(f"{dag_id} {run_id} still {state} after {timeout:.0f} s: {self.task_states(run_id)}")
            if now - logged > 15:
                logger.info("%s %s: %s, tasks %s", dag_id, run_id, state, self.task_states(run_id))
                logged = now
            time.sleep(1.0)

    def task_states(self, run_id: str) -> Dict[str, int]:
        rows = self.query(
            "SELECT coalesce(state, 'none') AS state, count(*) AS n FROM task_instance WHERE run_id = %s GROUP BY 1",
            [run_id],
        )
        return {r["state"]: r["n"] for r in rows}

    def by_account(self, dag_id: str, run_id: str, accounts_task: str = "accounts") -> Dict[str, List[Dict[str, Any]]]:
        """The mapped task instances of a run grouped by account: map_index is the position in the list the
        accounts task returned, whatever the tasks are called (one per resource or one per account)."""
        where = "WHERE dag_id = %s AND run_id = %s"
        listed = self.query(
            f"SELECT value FROM xcom {where} AND task_id = %s AND key = 'return_value'", [dag_id, run_id, accounts_task]
        )
        assert listed, f"no XCom from {accounts_task} in {run_id}"
        value = listed[0]["value"]
        accounts = json.loads(value) if isinstance(value, (str, bytes)) else value
        grouped: Dict[str, List[Dict[str, Any]]] = {name: [] for name in accounts}
        for ti in self.query(f"SELECT * FROM task_instance {where} AND map_index >= 0", [dag_id, run_id]):
            grouped[accounts[ti["map_index"]]].append(ti)
        return grouped


def _start(deployment: Deployment, name: str, args: List[str], env: Dict[str, str], cwd: Path) -> None:
    log = open(deployment.home / f"{name}.log", "wb")  # noqa: SIM115 - the process writes to it until teardown
    deployment.processes[name] = subprocess.Popen(
        [sys.executable, "-m", "airflow", *args],
        env=env,
        cwd=cwd,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # a process group of its own: teardown ends it with everything it forked
    )
    log.close()


def _wait(what: str, deployment: Deployment, done: Any, deadline: float) -> None:
    started = time.monotonic()
    while not done():
        deployment.check_alive()
        if time.monotonic() > deadline:
            raise TimeoutError(f"Airflow deployment: {what} not reached within {START_TIMEOUT:.0f} s")
        time.sleep(0.5)
    logger.info("Airflow deployment: %s after %.1f s", what, time.monotonic() - started)


def _api_up(url: str) -> bool:
    try:
        return requests.get(f"{url}/api/v2/monitor/health", timeout=5).ok
    except requests.RequestException:
        return False


def _members(deployment: Deployment) -> Dict[int, psutil.Process]:
    """The started processes and all they forked: task processes run in sessions of their own, out of
    reach of their parent's process group."""
    found: Dict[int, psutil.Process] = {}
    for process in deployment.processes.values():
        try:
            top = psutil.Process(process.pid)
            found.update({p.pid: p for p in [top, *top.children(recursive=True)]})
        except psutil.NoSuchProcess:
            pass
    return found


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _stop(deployment: Deployment) -> None:
    """SIGTERM every process group and every descendant, SIGKILL what outlives the bound, then check that
    nothing is left running."""
    members = _members(deployment)
    for process in deployment.processes.values():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    for member in members.values():
        with contextlib.suppress(psutil.NoSuchProcess):
            member.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline and any(_alive(m) for m in members.values()):
        members.update(_members(deployment))
        time.sleep(0.5)
    stubborn = [m for m in members.values() if _alive(m)]
    if stubborn:
        logger.warning("Airflow processes still running %.0f s after SIGTERM: killed %s", STOP_TIMEOUT, stubborn)
    for process in deployment.processes.values():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    for member in stubborn:
        with contextlib.suppress(psutil.NoSuchProcess):
            member.kill()
    for process in deployment.processes.values():
        process.wait(timeout=10)
    psutil.wait_procs(stubborn, timeout=10)
    left = [m for m in members.values() if _alive(m)]
    assert not left, f"Airflow processes left running after teardown: {left}"


@contextmanager
def airflow_deployment(
    root: Path,
    dag_files: Iterable[Path],
    dag_ids: Iterable[str],
    env: Dict[str, str],
    executor: str = "LocalExecutor",
    celery_workers: int = 0,
    parallelism: int = 4,
) -> Iterator[Deployment]:
    """Start a deployment under `root` with `env` (the DAGs' dlt configuration) in every process; yields
    once the API answers and every DAG in `dag_ids` is serialized, unpaused. Celery workers get their own
    home, working directory and dlt data dir under `root/worker-<n>`, and their name in task_instance.hostname."""
    started = time.monotonic()
    template = template_database()
    database = f"feedback_airflow_{uuid.uuid4().hex[:10]}"
    _execute(f'CREATE DATABASE "{database}" TEMPLATE "{template}"')
    home = root / "airflow"
    dags = home / "dags"
    dags.mkdir(parents=True)
    for path in dag_files:  # before the DAG processor starts: it lists the folder at start, then rarely
        shutil.copy(path, dags / Path(path).name)
    deployment = Deployment(home=home, database=database, port=_free_port(), env={})
    common = {
        **_base_env(),
        **env,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__EXECUTOR": executor,
        "AIRFLOW__CORE__PARALLELISM": str(parallelism),  # tasks mostly wait on HTTP and the warehouse
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "120",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{deployment.url}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__API_AUTH__JWT_SECRET": uuid.uuid4().hex,
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": _sqlalchemy_url(database),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_POOL_SIZE": "2",  # a shared PostgreSQL: few connections per process
        # only triggered runs: no scheduled run appears when the DAGs are unpaused
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "600",  # the files do not change: no re-parsing
        "AIRFLOW__DAG_PROCESSOR__DAG_FILE_PROCESSOR_TIMEOUT": "180",
        "DLT_DATA_DIR": str(home / "dlt-data"),
    }
    if executor == "CeleryExecutor":
        queue = f"feedback-{database}"  # a shared Redis: a queue of its own
        common["AIRFLOW__CELERY__BROKER_URL"] = "redis://127.0.0.1:6379/0"
        common["AIRFLOW__CELERY__RESULT_BACKEND"] = "db+" + _sqlalchemy_url(database)
        common["AIRFLOW__OPERATORS__DEFAULT_QUEUE"] = queue
    deployment.env = common
    try:
        serve = ["api-server", "--host", "127.0.0.1", "--port", str(deployment.port), "--workers", "1"]
        _start(deployment, "api-server", serve, common, home)
        _start(deployment, "dag-processor", ["dag-processor"], common, home)
        _start(deployment, "scheduler", ["scheduler", "--skip-serve-logs"], common, home)
        for n in range(1, celery_workers + 1):
            worker = root / f"worker-{n}"
            (worker / "work").mkdir(parents=True)
            own = {**common, "AIRFLOW_HOME": str(worker), "DLT_DATA_DIR": str(worker / "dlt-data")}
            own["FEEDBACK_AIRFLOW_WORKER"] = f"worker-{n}"
            # each worker may take up to `parallelism` tasks; the executor caps the total at `parallelism`
            args = ["celery", "worker", "--celery-hostname", f"worker-{n}@%h", "--queues", queue]
            _start(
                deployment,
                f"worker-{n}",
                [*args, "--concurrency", str(parallelism), "--skip-serve-logs"],
                own,
                worker / "work",
            )
        deadline = time.monotonic() + START_TIMEOUT
        _wait("API server answering", deployment, lambda: _api_up(deployment.url), deadline)
        wanted = sorted(dag_ids)
        serialized = "SELECT dag_id FROM serialized_dag WHERE dag_id = ANY(%s)"
        _wait(
            f"DAGs {wanted} serialized",
            deployment,
            lambda: len(deployment.query(serialized, [wanted])) == len(wanted),
            deadline,
        )
        errors = deployment.query("SELECT filename, stacktrace FROM import_error")
        assert not errors, f"DAG import errors: {errors}"
        logger.info("Airflow deployment up in %.1f s", time.monotonic() - started)
        yield deployment
    finally:
        stopping = time.monotonic()
        try:
            _stop(deployment)
        finally:
            _execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            if executor == "CeleryExecutor":  # kombu's bindings of the queue outlive it in the shared Redis
                import redis

                redis.Redis(host="127.0.0.1", port=6379).delete(
                    *(f"_kombu.{k}.{queue}" for k in ("binding", "binding_permanent"))
                )
            logger.info("Airflow deployment torn down in %.1f s", time.monotonic() - stopping)
