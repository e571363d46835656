"""Accounts as units of their own: three accounts side by side, one refused, and an interrupt."""

import signal
from pathlib import Path
from typing import Any, Dict

from sandbox.wootric import generate_account
from tests.conftest import run_cli, start_cli
from tests.pipelines.test_wootric_accounts import TABLES, accounts_env
from tests.support.hold import HeldCall, api_request
from tests.support.warehouse import assert_exact


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
