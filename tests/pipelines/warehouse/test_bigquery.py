"""The BigQuery destination's own rules, without a server: emulator mode, staging per account, and the
bounded retry on BigQuery's concurrent-update error (the emulator never raises it: it runs one
statement at a time)."""

import logging
import os

import pytest

from pipelines.warehouse.bigquery import (
    FIRST_WAIT_SECONDS,
    LOAD_ATTEMPTS,
    bigquery_destination,
    retrying_concurrent_updates,
)
from sources.http_kit import ConfigError

#: what dlt raised when BigQuery aborted a merge (its message, wrapped as dlt wraps it)
ABORTED = "400 Query error: Transaction is aborted due to concurrent update against table p.wootric.responses"


def aborted() -> Exception:
    try:
        raise RuntimeError(ABORTED)
    except RuntimeError as cause:
        try:
            raise ValueError("Pipeline execution failed at `step=load`") from cause
        except ValueError as wrapped:
            return wrapped


def test_a_concurrent_update_is_loaded_again_after_a_logged_growing_wait(caplog) -> None:
    calls, waits = [], []

    def load() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise aborted()
        return "loaded"

    with caplog.at_level(logging.WARNING):
        assert retrying_concurrent_updates(load, "account 'acme'", sleep=waits.append) == "loaded"
    assert len(calls) == 3 and len(waits) == 2
    assert FIRST_WAIT_SECONDS * 0.75 <= waits[0] <= FIRST_WAIT_SECONDS * 1.25
    assert 2 * FIRST_WAIT_SECONDS * 0.75 <= waits[1] <= 2 * FIRST_WAIT_SECONDS * 1.25
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2 and lines[0].startswith("account 'acme': another load changed the same BigQuery table")
    assert "(attempt 2 of 6)" in lines[0]


def test_the_retry_is_bounded_and_other_errors_are_not_retried() -> None:
    waits = []

    def always_aborted() -> None:
        raise aborted()

    with pytest.raises(ValueError) as raised:
        retrying_concurrent_updates(always_aborted, "x", sleep=waits.append)
    assert len(waits) == LOAD_ATTEMPTS - 1 and ABORTED in str(raised.value.__cause__)

    def refused() -> None:
        raise RuntimeError("403 Access Denied: Table p.wootric.responses")

    with pytest.raises(RuntimeError):
        retrying_concurrent_updates(refused, "x", sleep=waits.append)
    assert len(waits) == LOAD_ATTEMPTS - 1


def test_emulator_mode_needs_a_project_and_no_credentials(monkeypatch) -> None:
    monkeypatch.delenv("DESTINATION__BIGQUERY__CREDENTIALS__PROJECT_ID", raising=False)
    monkeypatch.delenv("NORMALIZE__DATA_WRITER__DISABLE_COMPRESSION", raising=False)
    monkeypatch.setenv("BIGQUERY_EMULATOR_HOST", "http://127.0.0.1:9050")
    with pytest.raises(ConfigError, match="set DESTINATION__BIGQUERY__CREDENTIALS__PROJECT_ID"):
        bigquery_destination()
    monkeypatch.setenv("DESTINATION__BIGQUERY__CREDENTIALS__PROJECT_ID", "local")
    destination = bigquery_destination("acme")
    params = destination.config_params
    assert params["project_id"] == "local" and params["credentials"].token == "bigquery-emulator"
    assert params["staging_dataset_name_layout"] == "%s_staging_acme"
    assert os.environ["NORMALIZE__DATA_WRITER__DISABLE_COMPRESSION"] == "true"  # the emulator reads no gzip


def test_without_the_emulator_dlt_resolves_credentials_and_compression_stays_on(monkeypatch) -> None:
    monkeypatch.delenv("BIGQUERY_EMULATOR_HOST", raising=False)
    monkeypatch.delenv("NORMALIZE__DATA_WRITER__DISABLE_COMPRESSION", raising=False)
    params = bigquery_destination().config_params
    assert "credentials" not in params and "staging_dataset_name_layout" not in params
    assert "NORMALIZE__DATA_WRITER__DISABLE_COMPRESSION" not in os.environ
