"""A task on a worker that has never seen the account (issue 21): dlt keeps a pipeline's working folder on
the machine that ran it and restores the state from the destination when the folder is empty. Each
"worker" here is a HOME, DLT_DATA_DIR and working directory of its own; the destination is all they share.

Worker 1 runs the CLI, the others the Airflow task's `account_sync` (pipelines/airflow_dag.py) for each
account: both sync the per-account pipelines `wootric-<account>` through `load_source`, one state each.
"""

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import psycopg2
import pytest

from sandbox.woku import generate_company
from sandbox.wootric import generate_account
from sandbox.wootric.params import args_of
from tests.conftest import _cli, only_on, run_cli
from tests.pipelines.test_woku_accounts import companies_env
from tests.pipelines.test_woku_pipeline import TABLES, assert_table_exact
from tests.pipelines.test_woku_tracker_values import change_values
from tests.pipelines.test_wootric_accounts import accounts_env, assert_accounts_exact
from tests.support import bigquery
from tests.support.summary import loaded
from tests.support.warehouse import PG_DSN

#: the Airflow task of each account, as pipelines/airflow_dag.py calls it (its `run_args`; every
#: default resource in one task), without Airflow: the task is this call
TASK = """
import argparse, json, sys
from pipelines.runner.sync import account_sync
from pipelines.vendors import VENDORS
vendor = VENDORS[sys.argv[1]]
args = argparse.Namespace(destination=sys.argv[2], dataset_name=sys.argv[3], pipeline_name=vendor.name, resources=None,
                          start_date=None, full_refresh=False, progress="none", max_parallel_accounts=1)
rows = {}
for account in sys.argv[4:]:
    with account_sync(vendor, args, account) as sync:
        loaded = sync.load()
        rows[account] = {t: loaded.get(t, 0) + sync.pending_rows.get(t, 0) for t in {*loaded, *sync.pending_rows}}
print(json.dumps(rows))
"""
#: each incremental stream -> its filter (`<filter>[gte]` opens a run where the cursor stands)
STREAMS = {"end_users": "updated", "responses": "created", "declines": "created"}
#: `sources.wootric.responses_lookback_days`' default: responses are read again from a week back
LOOKBACK = 7 * 86400
Calls = List[Tuple[str, Dict[str, str]]]


class SeenRequests:
    """The API requests a sandbox answered, with their parameters (where the cursor opened)."""

    def __init__(self, server: Any) -> None:
        self.calls: Calls = []
        answer = server.run

        def record(req: Any, *args: Any, **kwargs: Any) -> Any:
            if req.path.startswith(("/v1/", "/v2/")):
                self.calls.append((req.path.removeprefix("/v1/"), args_of(req)))
            return answer(req, *args, **kwargs)

        server.run = record

    def take(self) -> Calls:
        calls, self.calls = self.calls, []
        return calls


def opened_at(calls: Calls) -> Dict[str, Optional[int]]:
    """Each stream's lower bound in its first request (None: read from the beginning)."""
    bounds: Dict[str, Optional[int]] = {}
    for path, params in calls:
        if path in STREAMS and path not in bounds:
            value = params.get(f"{STREAMS[path]}[gte]")
            bounds[path] = None if value is None else int(value)
    return bounds


def cursors(account: Any) -> Dict[str, Optional[int]]:
    """Where the next run must open: the newest cursor value the account holds now (responses a week back)."""
    newest = {s: max(int(r[f"{f}_at"].timestamp()) for r in account.truth(s)) for s, f in STREAMS.items()}
    newest["responses"] -= LOOKBACK
    return dict(newest)


def worker(workdir: Path, n: int) -> Tuple[Path, Dict[str, str]]:
    """A machine of its own: working directory, HOME and dlt data folder."""
    home = workdir / f"worker{n}"
    home.mkdir(exist_ok=True)
    return home, {"HOME": str(home), "DLT_DATA_DIR": str(home / "dlt")}


def run_tasks(
    warehouse: Any, cwd: Path, env: Dict[str, str], accounts: List[str], vendor: str = "wootric"
) -> Dict[str, int]:
    """Each account's Airflow task, one after another in one process; rows loaded per stream."""
    _, full_env = _cli([], cwd, env, f"{vendor}_pipeline.py")
    destination, dataset = warehouse.args[1], warehouse.args[3]  # --destination X --dataset-name Y
    command = [sys.executable, "-c", TASK, vendor, destination, dataset, *accounts]
    done = subprocess.run(command, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    rows: Counter = Counter()
    for counts in json.loads(done.stdout.strip().splitlines()[-1]).values():
        rows.update({table: n for table, n in counts.items() if n})
    return {table: n for table, n in rows.items() if table in STREAMS}


def run_cli_on(warehouse: Any, cwd: Path, env: Dict[str, str]) -> Dict[str, int]:
    """The CLI over every account; rows loaded per stream."""
    done = run_cli(warehouse.args, cwd, env)
    assert done.returncode == 0, done.stderr
    return loaded(done.stdout)


def lose_last_load_record(warehouse: Any, pipeline_name: str) -> None:
    """The newest load of `pipeline_name` landed but its `_dlt_loads` row did not (dlt issue #4052): dlt
    restores only a state whose load is recorded, so a new worker starts from the state before it."""
    load_id = max(
        r["_dlt_load_id"] for r in warehouse.read("_dlt_pipeline_state") if r["pipeline_name"] == pipeline_name
    )
    dataset = warehouse.args[3]
    if warehouse.name == "bigquery":
        bigquery.query(f"DELETE FROM `{bigquery.PROJECT}.{dataset}._dlt_loads` WHERE load_id = '{load_id}'")
        return
    with psycopg2.connect(PG_DSN) as con, con.cursor() as cur:
        cur.execute(f'DELETE FROM "{dataset}"._dlt_loads WHERE load_id = %s', (load_id,))


@pytest.mark.timeout(240)
@pytest.mark.parametrize("warehouse", ["postgres", "bigquery"], indirect=True)
def test_a_new_worker_continues_from_the_destinations_state(workdir: Path, warehouse, start_sandbox) -> None:
    """Worker 1 loads two accounts; worker 2, which never saw them, loads only what changed; worker 1
    again, on its stale folder, continues from worker 2's state; worker 3, after a load whose record was
    lost (dlt #4052), reads that load's window again and the merge keeps every table exact."""
    acme = generate_account(seed=81, end_users=60, responses=700, declines=60)
    brandb = generate_account(seed=82, end_users=50, responses=500, declines=40)
    accounts = {"acme": acme, "brandb": brandb}
    servers = {name: start_sandbox(account) for name, account in accounts.items()}
    seen = {name: SeenRequests(server) for name, server in servers.items()}
    env = accounts_env(servers)
    #: (account, API requests, list requests per stream) of each run
    measured: List[Tuple[str, int, Dict[str, int]]] = []

    def check(rows: Dict[str, int], expected: Dict[str, int], bounds: Dict[str, Dict[str, Optional[int]]]) -> None:
        """The rows the run loaded, where each stream opened, a page or two per stream, exact tables."""
        assert rows == expected, rows
        assert_accounts_exact(accounts, warehouse.read)
        for name, requests in seen.items():
            calls = requests.take()
            measured.append((name, len(calls), dict(Counter(path for path, _ in calls if path in STREAMS))))
            assert opened_at(calls) == bounds[name], name
            if any(bounds[name].values()):  # incremental: one page per stream, a second at most
                assert max(measured[-1][2].values()) <= 2, measured[-1]

    home1, env1 = worker(workdir, 1)
    rows = run_cli_on(warehouse, home1, {**env, **env1})
    check(rows, {s: acme.count(s) + brandb.count(s) for s in STREAMS}, dict.fromkeys(accounts, dict.fromkeys(STREAMS)))

    # new and changed records, then a worker that has never seen the accounts
    after = {name: cursors(account) for name, account in accounts.items()}
    recent = max(acme.truth("responses"), key=lambda r: r["created_at"])
    acme.update_responses([recent["id"]], text="edited on the source")
    acme.add_responses(25)
    brandb.update_end_users(7)
    brandb.add_declines(3)
    home2, env2 = worker(workdir, 2)
    rows = run_tasks(warehouse, home2, {**env, **env2}, list(accounts))
    check(rows, {"responses": 26, "end_users": 7, "declines": 3}, after)
    assert all(new[1] * 2 < first[1] for new, first in zip(measured[2:], measured[:2], strict=True)), measured

    # worker 1's folder still holds the first run's state: dlt takes the destination's newer one
    after = {name: cursors(account) for name, account in accounts.items()}
    acme.update_end_users(4)
    brandb.add_responses(10)
    check(run_cli_on(warehouse, home1, {**env, **env1}), {"end_users": 4, "responses": 10}, after)

    # acme's last load lost its record: worker 3 restores the state before it and reads acme's four
    # changed end users again (merged: still once each), brandb from its newest state
    before, after = after, {name: cursors(account) for name, account in accounts.items()}
    lose_last_load_record(warehouse, "wootric-acme")
    acme.add_responses(5)
    home3, env3 = worker(workdir, 3)
    rows = run_tasks(warehouse, home3, {**env, **env3}, list(accounts))
    check(rows, {"responses": 5, "end_users": 4}, {"acme": before["acme"], "brandb": after["brandb"]})
    print(f"\n{warehouse.name}, requests per run and account: {measured}")


@only_on("postgres", "woku_warehouse")
def test_a_new_worker_continues_woku_from_the_destinations_state(workdir: Path, woku_warehouse, start_woku) -> None:
    """Woku's cursors (survey responses from `from`, reviews and form responses down to the newest
    seen) and tracker values on a worker that never saw the companies."""
    companies = {
        "acme": generate_company(seed=83, nps_responses=300, reviews=60, form_responses=30),
        "globex": generate_company(seed=84, nps_responses=250, reviews=50, form_responses=20),
    }
    servers = {name: start_woku(company) for name, company in companies.items()}
    seen = {name: SeenRequests(server) for name, server in servers.items()}
    env = companies_env(servers)
    home1, env1 = worker(workdir, 1)
    done = run_cli(woku_warehouse.args, home1, {**env, **env1}, script="woku_pipeline.py")
    assert done.returncode == 0, done.stderr
    full = {name: s.take() for name, s in seen.items()}

    companies["acme"].add_responses("nps", 12)
    companies["globex"].add_reviews(5)
    change_values(companies["acme"], "flow")
    home2, env2 = worker(workdir, 2)
    run_tasks(woku_warehouse, home2, {**env, **env2}, list(companies), vendor="woku")
    for table in TABLES:
        rows = woku_warehouse.read(table)
        for name, company in companies.items():
            assert_table_exact(table, company, [r for r in rows if r["account"] == name], account=name)
    for name, requests in seen.items():
        nps = [params for path, params in requests.take() if path == "nps"]
        first = [params for path, params in full[name] if path == "nps"]
        assert len(first) == 3 and "from" not in first[0], first
        assert len(nps) == 1 and "from" in nps[0], nps  # the newest week, not the history
