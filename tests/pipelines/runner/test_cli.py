"""One-line errors with their documented exit codes: what the shared runner says when a command cannot go on."""

import argparse
import os
from pathlib import Path

import duckdb
import pytest

from pipelines.runner.cli import EXIT_IN_PROGRESS, explain
from pipelines.runner.sync import max_parallel_accounts
from pipelines.vendors import WOOTRIC
from sources.http_kit import ConfigError
from tests.conftest import run_cli

ENV = {"SOURCES__WOOTRIC__CREDENTIALS__CLIENT_ID": "id", "SOURCES__WOOTRIC__CREDENTIALS__CLIENT_SECRET": "s3cret"}


def test_max_parallel_accounts_zero_is_refused_on_the_command_line_as_from_config(workdir: Path) -> None:
    with pytest.raises(ConfigError, match="--max-parallel-accounts: 0 is not a whole number of at least 1"):
        max_parallel_accounts(WOOTRIC, argparse.Namespace(max_parallel_accounts=0))
    os.environ["SOURCES__WOOTRIC__MAX_PARALLEL_ACCOUNTS"] = "0"
    try:
        with pytest.raises(ConfigError, match="sources.wootric.max_parallel_accounts"):
            max_parallel_accounts(WOOTRIC, argparse.Namespace(max_parallel_accounts=None))
        assert max_parallel_accounts(WOOTRIC, argparse.Namespace(max_parallel_accounts=3)) == 3
    finally:
        del os.environ["SOURCES__WOOTRIC__MAX_PARALLEL_ACCOUNTS"]


def test_a_long_error_line_keeps_its_end() -> None:
    err = type("Error", (Exception,), {"__module__": "duckdb"})("a" * 600 + " the reason at the end")
    explained = explain(err)
    assert explained is not None and explained[0].endswith("the reason at the end"), explained
    assert len(explained[0]) < 700


@pytest.mark.parametrize("command", [["status"], ["verify"], ["verify", "--repair"]])
def test_a_duckdb_file_held_by_another_process_is_a_run_in_progress(workdir: Path, command) -> None:
    """A sync holds the DuckDB file: status, verify and repair end as a second sync would (exit 7), with
    DuckDB's reason (the process holding the lock)."""
    path = workdir / "feedback.duckdb"
    with duckdb.connect(str(path)) as holder:
        holder.execute("CREATE SCHEMA wootric")
        done = run_cli(command, workdir, ENV)
    assert done.returncode == EXIT_IN_PROGRESS, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert f"(PID {os.getpid()})" in lines[0] and "s3cret" not in done.stderr, lines[0]
