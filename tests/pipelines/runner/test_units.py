"""Accounts as units of their own: each its own pipeline and state, upgraded from the shared pipeline
that earlier versions ran every account under, and three accounts side by side, one refused."""

import signal
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict

from sandbox.wootric import generate_account
from tests.conftest import _cli, run_cli, start_cli
from tests.pipelines.test_wootric_accounts import TABLES, accounts_env
from tests.support.hold import HeldCall, api_request
from tests.support.summary import loaded
from tests.support.warehouse import assert_exact

#: what the runner did before accounts were units: one pipeline, one dlt source per account
SHARED_PIPELINE_RUN = """
import sys
from pipelines.runner.units import plan_units
from pipelines.vendors import WOOTRIC
from pipelines.warehouse.destinations import LOADER_FILE_FORMAT, destination_for
import dlt
destination, dataset = sys.argv[1], sys.argv[2]
pipeline = dlt.pipeline("wootric", destination=destination_for(destination, dataset), dataset_name=dataset)
for source in [unit.source for unit in plan_units(WOOTRIC, "wootric", None, None)]:
    pipeline.run(source, loader_file_format=LOADER_FILE_FORMAT.get(destination))
"""


def dataset_of(args: list) -> str:
    return args[args.index("--dataset-name") + 1] if "--dataset-name" in args else "wootric"


def test_accounts_of_a_shared_pipeline_carry_their_state_over(workdir: Path, warehouse, start_sandbox) -> None:
    acme = generate_account(seed=41, end_users=40, responses=300, declines=20)
    brandb = generate_account(seed=42, end_users=30, responses=250, declines=25)
    accounts = {"acme": acme, "brandb": brandb}
    env = accounts_env({"acme": start_sandbox(acme), "brandb": start_sandbox(brandb)})
    _, full_env = _cli([], workdir, env, "wootric_pipeline.py")
    destination = warehouse.args[warehouse.args.index("--destination") + 1]
    old = subprocess.run(
        [sys.executable, "-c", SHARED_PIPELINE_RUN, destination, dataset_of(warehouse.args)],
        cwd=workdir,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert old.returncode == 0, old.stderr[-3000:]

    added = {r["id"] for r in acme.add_responses(6)}
    edited = {u["id"] for u in brandb.update_end_users(4)}
    result = run_cli([*warehouse.args], workdir, env)
    assert result.returncode == 0, result.stderr
    # only the change: the incremental state of each account came along to its own pipeline
    assert loaded(result.stdout) == {"responses": len(added), "end_users": len(edited)}, result.stdout
    assert result.stderr.count("incremental state carried over") == 2, result.stderr
    pipelines = {p.name for p in (workdir / "dlt-data" / "pipelines").iterdir() if p.is_dir()}
    assert {"wootric-acme", "wootric-brandb"} <= pipelines
    for table in TABLES:
        rows = warehouse.read(table)
        for name, account in accounts.items():
            assert_exact(table, account.truth(table), rows, account=name)

    # the next run finds each account's own state: nothing carried over again, nothing new loaded
    again = run_cli([*warehouse.args], workdir, env)
    assert again.returncode == 0, again.stderr
    assert "carried over" not in again.stderr and loaded(again.stdout) == {}, again.stdout


def test_three_accounts_side_by_side_one_refused(workdir: Path, warehouse, start_sandbox) -> None:
    made: Dict[str, Any] = {
        name: generate_account(seed=50 + i, end_users=25, responses=180, declines=15)
        for i, name in enumerate(("acme", "brandb", "corp"))
    }
    env = accounts_env({name: start_sandbox(account) for name, account in made.items()})
    env["SOURCES__WOOTRIC__BRANDB__CREDENTIALS__CLIENT_SECRET"] = "wrong-secret-456"
    env["SOURCES__WOOTRIC__MAX_PARALLEL_ACCOUNTS"] = "3"
    result = run_cli([*warehouse.args], workdir, env)
    assert result.returncode == 3, result.stderr
    assert [line for line in result.stderr.splitlines() if line.startswith("error:")] == [
        line for line in result.stderr.splitlines() if line.startswith("error: account 'brandb': ")
    ]
    assert "wrong-secret-456" not in result.stderr + result.stdout and "Traceback" not in result.stderr
    for table in TABLES:
        rows = warehouse.read(table)
        assert {row["account"] for row in rows} == {"acme", "corp"}, table
        for name in ("acme", "corp"):
            assert_exact(table, made[name].truth(table), rows, account=name)


def test_an_interrupt_ends_a_run_of_accounts_side_by_side_at_once(workdir: Path, start_sandbox) -> None:
    servers = {
        name: start_sandbox(generate_account(seed=70 + i, end_users=20, responses=100))
        for i, name in enumerate(("acme", "brandb"))
    }
    # each account's first API answer is held: both accounts wait on their API when the interrupt comes
    holds = [HeldCall(server, "run", matches=api_request()) for server in servers.values()]
    try:
        run = start_cli(["--progress", "none"], workdir, accounts_env(servers))
        assert all(hold.entered.wait(120) for hold in holds), "the accounts never reached their API"
        run.send_signal(signal.SIGINT)
        # ends while the answers the accounts wait on are still held, instead of waiting for those threads
        out, err = run.communicate(timeout=60)
    finally:
        for hold in holds:
            hold.release.set()
    assert run.returncode == 130, err
    assert [line for line in err.splitlines() if line.startswith("error:")] == ["error: interrupted"]
