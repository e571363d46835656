"""The DAGs in a real Airflow deployment on loopback (tests/support/airflow_deploy.py): the scheduler hands
each task to LocalExecutor, every task its own process, into PostgreSQL. Verdicts are per account, read
from the mapped task instances (map_index -> the list the `accounts` task returned), whatever the DAG's
tasks are called.

Needs the `[airflow]` extra and `asyncpg`, so the tests carry the `airflow` mark (see test_airflow_dag.py).
"""

import logging
import time
import uuid
from typing import Any, Dict, Iterator, List

import pytest

from sandbox.woku import WokuSandboxServer, generate_company
from sandbox.wootric import SandboxServer, generate_account
from tests.conftest import ROOT
from tests.pipelines.test_woku_pipeline import TABLES as WOKU_TABLES
from tests.pipelines.test_woku_pipeline import assert_table_exact as assert_woku_exact
from tests.support.airflow_deploy import Deployment, airflow_deployment
from tests.support.warehouse import PG_DSN, assert_exact, drop_postgres_dataset, read_postgres

# one test, so that xdist never splits the module over two deployments; the bound covers the deployment's
# start (and the migrations, on a server that never had them) and four runs on a loaded machine
pytestmark = [pytest.mark.airflow, pytest.mark.timeout(1200)]

logger = logging.getLogger(__name__)
TABLES = ("end_users", "responses", "declines")
ACCOUNTS = ("a", "b", "c")
REFUSED = "b"
WRONG_SECRET, WRONG_KEY = "wrong-secret-456", "wrong-key-987654"
#: seconds a triggered run may take on a loaded 2-core machine
RUN_TIMEOUT = 420.0


class Site:
    """The sandboxes, the deployment and the datasets the module's tests share."""

    def __init__(self, deployment: Deployment, wootric: Dict[str, Any], woku: Dict[str, Any], datasets: Dict[str, str]):
        self.deployment, self.wootric, self.woku, self.datasets = deployment, wootric, woku, datasets
        self.timings: Dict[str, float] = {}

    def run(self, dag_id: str, label: str) -> tuple:
        started = time.monotonic()
        run_id = self.deployment.trigger(dag_id, {})
        state = self.deployment.wait_for_run(dag_id, run_id, RUN_TIMEOUT)
        self.timings[label] = time.monotonic() - started
        return run_id, state


def config_env(
    wootric: Dict[str, SandboxServer], woku: Dict[str, WokuSandboxServer], datasets: Dict[str, str]
) -> Dict[str, str]:
    env = {"DESTINATION__POSTGRES__CREDENTIALS": PG_DSN}
    for vendor in ("WOOTRIC", "WOKU"):
        env[f"{vendor}_DAG__DESTINATION"] = "postgres"
        env[f"{vendor}_DAG__DATASET_NAME"] = datasets[vendor.lower()]
        env[f"{vendor}_DAG__RETRIES"] = "0"  # a refused secret fails at once, no retry delay to wait out
        env[f"SOURCES__{vendor}__ACCOUNTS"] = ",".join(ACCOUNTS)
    for name, server in wootric.items():
        prefix = f"SOURCES__WOOTRIC__{name.upper()}__"
        env[prefix + "BASE_URL"] = server.url
        env[prefix + "CREDENTIALS__CLIENT_ID"] = server.client_id
        env[prefix + "CREDENTIALS__CLIENT_SECRET"] = WRONG_SECRET if name == REFUSED else server.client_secret
    for name, server in woku.items():
        prefix = f"SOURCES__WOKU__{name.upper()}__"
        env[prefix + "BASE_URL"] = server.url
        env[prefix + "CREDENTIALS__API_KEY"] = WRONG_KEY if name == REFUSED else server.api_key
    return env


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Three Wootric accounts and three Woku companies, each its own sandbox, and one deployment."""
    wootric = {
        name: SandboxServer(generate_account(seed=70 + i, end_users=60, responses=300, declines=20))
        for i, name in enumerate(ACCOUNTS)
    }
    woku = {
        name: WokuSandboxServer(generate_company(seed=90 + i, nps_responses=60, reviews=20, form_responses=10))
        for i, name in enumerate(ACCOUNTS)
    }
    suffix = uuid.uuid4().hex[:8]
    datasets = {"wootric": f"deploy_wootric_{suffix}", "woku": f"deploy_woku_{suffix}"}
    servers = [*wootric.values(), *woku.values()]
    for server in servers:
        server.start()
    root = tmp_path_factory.mktemp("deployment")
    dags = [ROOT / "pipelines" / "wootric_dag.py", ROOT / "pipelines" / "woku_dag.py"]
    started = time.monotonic()
    try:
        with airflow_deployment(
            root, dags, ["wootric_sync", "woku_sync"], config_env(wootric, woku, datasets)
        ) as deployment:
            made = Site(deployment, wootric, woku, datasets)
            made.timings["deployment start"] = time.monotonic() - started
            yield made
            stopping = time.monotonic()
        made.timings["teardown"] = time.monotonic() - stopping
        print("\nAirflow deployment timings (s): " + ", ".join(f"{k} {v:.0f}" for k, v in made.timings.items()))
        logs = "\n".join(p.read_text(errors="replace") for p in (root / "airflow").rglob("*.log"))
        assert logs and WRONG_SECRET not in logs and WRONG_KEY not in logs, "a refused secret reached the logs"
    finally:
        for server in servers:
            server.stop()
        for dataset in datasets.values():
            drop_postgres_dataset(dataset)


def verdicts(deployment: Deployment, dag_id: str, run_id: str) -> Dict[str, set]:
    """Per account, the set of its mapped task instances' final states."""
    grouped = deployment.by_account(dag_id, run_id)
    assert all(grouped.values()), f"an account ran no task: {grouped}"
    return {name: {ti["state"] for ti in tis} for name, tis in grouped.items()}


def list_requests(server: SandboxServer) -> Dict[str, int]:
    return {t: server.stats()["by_path"].get(f"/v1/{t}", 0) for t in TABLES}


def assert_wootric_exact(site: Site) -> None:
    for table in TABLES:
        rows = read_postgres(site.datasets["wootric"], table)
        assert {row["account"] for row in rows} == {"a", "c"}, table
        for name in ("a", "c"):
            assert_exact(table, site.wootric[name].account.truth(table), rows, account=name)


def test_dags_in_a_deployment_one_account_refused(site: Site) -> None:
    """Wootric twice (the second run after new and changed records loads only the delta), then Woku."""
    wootric_three_accounts_one_refused_then_only_the_delta(site)
    woku_three_companies_one_refused(site)


def wootric_three_accounts_one_refused_then_only_the_delta(site: Site) -> None:
    deployment = site.deployment
    run_id, state = site.run("wootric_sync", "wootric run 1")
    assert state == "failed", "a refused account must mark the run failed"
    assert verdicts(deployment, "wootric_sync", run_id) == {"a": {"success"}, "b": {"failed"}, "c": {"success"}}
    assert site.wootric[REFUSED].stats()["requests"] == 0, "the refused account got past its token"
    assert_wootric_exact(site)
    first = {name: list_requests(site.wootric[name]) for name in ("a", "c")}

    for i, name in enumerate(ACCOUNTS):
        account = site.wootric[name].account
        account.add_responses(12 + i)
        account.add_declines(3)
        account.add_end_users(2)
        account.update_end_users(4)
        site.wootric[name].reset_stats()
    run_id, state = site.run("wootric_sync", "wootric run 2")
    assert state == "failed"
    assert verdicts(deployment, "wootric_sync", run_id) == {"a": {"success"}, "b": {"failed"}, "c": {"success"}}
    for name in ("a", "c"):
        delta = list_requests(site.wootric[name])
        logger.info("account %s list requests: first run %s, second run %s", name, first[name], delta)
        assert delta["responses"] <= 2 < first[name]["responses"], (name, first[name], delta)
        assert all(0 < n <= 2 for n in delta.values()), (name, delta)
    assert_wootric_exact(site)


def woku_three_companies_one_refused(site: Site) -> None:
    run_id, state = site.run("woku_sync", "woku run")
    assert state == "failed"
    assert verdicts(site.deployment, "woku_sync", run_id) == {"a": {"success"}, "b": {"failed"}, "c": {"success"}}
    for table in WOKU_TABLES:
        rows: List[Dict[str, Any]] = read_postgres(site.datasets["woku"], table)
        assert {row["account"] for row in rows} == {"a", "c"}, table
        for name in ("a", "c"):
            company = site.woku[name].company
            assert_woku_exact(table, company, [r for r in rows if r["account"] == name], account=name)
