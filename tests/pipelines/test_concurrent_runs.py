"""Two runs of one pipeline at once: the second refuses before extracting; the first completes exactly."""

import re
from pathlib import Path

from sandbox.wootric import generate_account
from tests.conftest import run_cli, sandbox_env, start_cli
from tests.support.hold import HeldCall, api_request
from tests.support.summary import loaded
from tests.support.warehouse import assert_exact

TABLES = ("end_users", "responses", "declines")


def test_a_second_run_of_the_same_pipeline_refuses_and_the_first_completes(
    workdir: Path, warehouse, start_sandbox
) -> None:
    account = generate_account(seed=21, end_users=40, responses=300, declines=30)
    server = start_sandbox(account)
    # the first run stays extracting: its first page of responses is held until the second run has ended
    with HeldCall(server, "run", matches=api_request("/v1/responses")) as held:
        first = start_cli(warehouse.args, workdir, sandbox_env(server))
        assert held.entered.wait(120), "the first run never reached the API"
        # the second run reads another sandbox: any request it made would show there
        other = start_sandbox(generate_account(seed=22, end_users=5, responses=10, declines=1))
        second = run_cli(warehouse.args, workdir, sandbox_env(other), timeout=120)
    assert second.returncode == 7, second.stderr
    assert "Traceback" not in second.stderr
    errors = [line for line in second.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, second.stderr
    pattern = rf"error: another run of pipeline wootric \(pid {first.pid}, started \S+Z\) is in progress"
    assert re.fullmatch(pattern, errors[0]), errors[0]
    assert other.stats()["requests"] == 0, "the second run extracted before refusing"

    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert loaded(out) == {t: account.count(t) for t in TABLES}, out
    for table in TABLES:
        assert_exact(table, account.truth(table), warehouse.read(table))

    # the lock went with the first run: the next run proceeds (and finds nothing new)
    again = run_cli(warehouse.args, workdir, sandbox_env(server))
    assert again.returncode == 0, again.stderr
    assert loaded(again.stdout) == {}, again.stdout
