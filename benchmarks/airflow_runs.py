"""The Wootric DAG in a real Airflow deployment on loopback (tests/support/airflow_deploy.py), timed: by
default under CeleryExecutor with two workers, one account alone, then 8 accounts, each on its own
rate-limited sandbox, into PostgreSQL; with `--executor LocalExecutor --dag FILE:DAG_ID` the same for
another DAG shape (benchmarks/airflow_dags/: the no-op floor, dlt's PipelineTasksGroup).

    python benchmarks/airflow_runs.py [--accounts 8] [--responses 3000] [--rate-limit 10]
    python benchmarks/airflow_runs.py --executor LocalExecutor --no-solo --runs 2 --accounts 3 \
        --end-users 60 --responses 300 --declines 20 --rate-limit 0 [--dag FILE:DAG_ID] [--floor]

Needs the `[airflow]` extra and `asyncpg`; for Celery also `apache-airflow-providers-celery` and Redis on
127.0.0.1:6379 (provider 3.26 imports `celery.backends.database.retry`, which Celery 5.7 removed:
`celery<5.7`). Celery workers each have their own home, working folder and dlt data dir, and their name
in `task_instance.hostname`. Prints the wall time of each run (trigger to final state), which worker ran
which account, the peak RSS of each worker's process tree (sampled every 0.2 s), and exactness.
"""

import argparse
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Dict, List

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from a checkout

from sandbox.wootric import SandboxServer, generate_account  # noqa: E402
from tests.support import netguard  # noqa: E402
from tests.support.airflow_deploy import Deployment, airflow_deployment  # noqa: E402
from tests.support.warehouse import PG_DSN, assert_exact, drop_postgres_dataset, read_postgres  # noqa: E402

TABLES = ("end_users", "responses", "declines")
DAG_ID = "wootric_sync"


class PeakRss:
    """Samples the summed RSS of each worker's process tree (the worker, its pool and task processes)."""

    def __init__(self, deployment: Deployment, workers: List[str]) -> None:
        self.peaks = {name: 0 for name in workers}
        self._procs = {name: psutil.Process(deployment.processes[name].pid) for name in workers}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            for name, top in self._procs.items():
                total = 0
                try:
                    for proc in [top, *top.children(recursive=True)]:
                        total += proc.memory_info().rss
                except psutil.NoSuchProcess:
                    pass
                self.peaks[name] = max(self.peaks[name], total)

    def __enter__(self) -> "PeakRss":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def accounts_toml(names: List[str]) -> str:
    return f'[sources.wootric]\naccounts = "{",".join(names)}"\n'


def run(deployment: Deployment, dag_id: str, names: List[str], celery: bool) -> Dict[str, object]:
    """One triggered run; under Celery, the workers each account's tasks ran on (the project's DAGs map
    accounts; the other shapes run under LocalExecutor)."""
    deployment.set_variable("dlt_secrets_toml", accounts_toml(names))
    started = time.monotonic()
    run_id = deployment.trigger(dag_id)
    state = deployment.wait_for_run(dag_id, run_id, timeout=1800)
    wall = time.monotonic() - started
    tasks = deployment.by_account(dag_id, run_id) if celery else {}
    placed = {name: sorted({ti["hostname"] for ti in tis}) for name, tis in tasks.items()}
    return {"state": state, "wall": wall, "placed": placed}


def exactness(dataset: str, servers: Dict[str, SandboxServer]) -> str:
    for table in TABLES:
        rows = read_postgres(dataset, table)
        assert {r["account"] for r in rows} == set(servers), table
        for name, server in servers.items():
            assert_exact(table, server.account.truth(table), rows, account=name)
    counts = {t: len(read_postgres(dataset, t)) for t in TABLES}
    return f"exact ({counts})"


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=8)
    parser.add_argument("--end-users", type=int, default=300)
    parser.add_argument("--responses", type=int, default=3000)
    parser.add_argument("--declines", type=int, default=300)
    parser.add_argument("--rate-limit", type=int, default=10, help="requests per second per account")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--parallelism", type=int, default=4)
    parser.add_argument("--executor", default="CeleryExecutor", choices=["CeleryExecutor", "LocalExecutor"])
    parser.add_argument("--dag", default=f"{ROOT / 'pipelines' / 'wootric_dag.py'}:{DAG_ID}", help="FILE:DAG_ID")
    parser.add_argument("--runs", type=int, default=1, help="triggered runs of the accounts, one after another")
    parser.add_argument("--no-solo", action="store_true", help="skip the run of one account alone")
    parser.add_argument("--floor", action="store_true", help="a DAG that loads nothing: no exactness check")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # `kill` tears the deployment down too
    netguard.install()
    names = [f"acct{i}" for i in range(1, args.accounts + 1)]
    servers = {
        name: SandboxServer(
            generate_account(seed=200 + i, end_users=args.end_users, responses=args.responses, declines=args.declines),
            **({"rate_limit": args.rate_limit, "rate_window": 1.0} if args.rate_limit else {}),
        )
        for i, name in enumerate(["solo", *names])
    }
    for server in servers.values():
        server.start()
    dataset = f"bench_celery_{uuid.uuid4().hex[:8]}"
    env = {"DESTINATION__POSTGRES__CREDENTIALS": PG_DSN, "WOOTRIC_DAG__DESTINATION": "postgres"}
    env["WOOTRIC_DAG__DATASET_NAME"] = dataset
    env["WOOTRIC_DAG__RETRIES"] = "0"
    for name, server in servers.items():
        prefix = f"SOURCES__WOOTRIC__{name.upper()}__"
        env[prefix + "BASE_URL"] = server.url
        env[prefix + "CREDENTIALS__CLIENT_ID"] = server.client_id
        env[prefix + "CREDENTIALS__CLIENT_SECRET"] = server.client_secret
    if args.no_solo:  # for a DAG that reads the accounts when it is parsed (environment beats the Variable)
        env["SOURCES__WOOTRIC__ACCOUNTS"] = ",".join(names)
    dag_file, dag_id = args.dag.rsplit(":", 1)
    celery = args.executor == "CeleryExecutor"
    workers = [f"worker-{n}" for n in range(1, args.workers + 1)] if celery else []
    root = Path(tempfile.mkdtemp(prefix="airflow-runs-"))
    started = time.monotonic()
    try:
        with airflow_deployment(
            root,
            [Path(dag_file)],
            [dag_id],
            env,
            executor=args.executor,
            celery_workers=len(workers),
            parallelism=args.parallelism,
        ) as deployment:
            up = time.monotonic() - started
            with PeakRss(deployment, workers) as rss:
                solo = None if args.no_solo else run(deployment, dag_id, ["solo"], celery)
                runs = [run(deployment, dag_id, names, celery) for _ in range(args.runs)]
            stopping = time.monotonic()
        down = time.monotonic() - stopping
        per = f"{args.end_users} end users, {args.responses} responses, {args.declines} declines"
        limit = f"at {args.rate_limit} requests/s" if args.rate_limit else "without a rate limit"
        if celery:
            slots = f"{args.parallelism} Celery slots each, at most {args.parallelism} tasks at once"
            print(f"\nCeleryExecutor, {args.workers} workers, {slots} ([core] parallelism); {per}")
        else:
            print(f"\nLocalExecutor, [core] parallelism {args.parallelism}; {per}")
        print(f"DAG {dag_id} ({dag_file}); each account on its own sandbox {limit}; load {psutil.getloadavg()}")
        print(f"deployment up {up:.0f} s, teardown {down:.0f} s")
        if solo:
            where = f" on {solo['placed']}" if solo["placed"] else ""
            print(f"1 account alone: {solo['state']} in {solo['wall']:.0f} s{where}")
        for n, each in enumerate(runs, 1):
            print(f"{args.accounts} accounts, run {n}: {each['state']} in {each['wall']:.0f} s")
            for name, hosts in each["placed"].items():  # type: ignore[union-attr]
                print(f"  {name}: {', '.join(hosts)}")
        for name, peak in rss.peaks.items():
            print(f"peak RSS {name} (process tree): {peak / 2**20:.0f} MiB")
        loaded = {name: server for name, server in servers.items() if name != "solo" or solo}
        if not args.floor:
            print(f"the accounts{' and the one alone' if solo else ''}: " + exactness(dataset, loaded))
        passed = all(each["state"] == "success" for each in [*runs, *([solo] if solo else [])])
        if passed:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"a run failed: the deployment's logs are in {root}")
        return 0 if passed else 1
    finally:
        for server in servers.values():
            server.stop()
        drop_postgres_dataset(dataset)


if __name__ == "__main__":
    sys.exit(main())
