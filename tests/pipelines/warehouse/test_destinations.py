"""`with_headroom`: a DuckDB load that ran out of memory under the default cap is loaded once more under
the headroom cap; a cap the user set, another destination or another error stands. The load fails as
DuckDB's does (its own exception, inside the chain dlt wraps it in), so the test does not depend on how
much memory a DuckDB version needs for a large value."""

from pathlib import Path
from typing import Any, List, Optional

import duckdb
import pytest

from pipelines.warehouse.destinations import DUCKDB_HEADROOM_MB, with_headroom


class Load:
    """A load that raises `errors` in turn, then succeeds; records the destination of each call."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.destinations: List[Optional[Any]] = []

    def __call__(self, destination: Optional[Any] = None) -> str:
        self.destinations.append(destination)
        if self.errors:
            raise self.errors.pop(0)
        return "loaded"


def out_of_memory() -> BaseException:
    """DuckDB's error as a load step raises it: wrapped by dlt, the database's own exception as the cause."""
    try:
        try:
            raise duckdb.OutOfMemoryException("Out of Memory Error: failed to allocate data of size 64.0 MiB")
        except duckdb.OutOfMemoryException as exc:
            raise RuntimeError("load step failed") from exc
    except RuntimeError as wrapped:
        return wrapped


def test_a_load_out_of_memory_is_loaded_again_once_with_headroom(workdir: Path, caplog) -> None:
    load = Load(out_of_memory())
    assert with_headroom(load, "duckdb") == "loaded"
    first, again = load.destinations
    assert first is None  # the first load under the pipeline's own destination (the default cap)
    credentials = again.config_params["credentials"]
    assert credentials.global_config["memory_limit"] == f"{DUCKDB_HEADROOM_MB}MB"
    assert credentials.database == str(workdir / "feedback.duckdb")
    assert "ran out of memory under 128MB loading a large value; loading again under 256MB" in caplog.text


def test_a_second_failure_under_headroom_stands(workdir: Path) -> None:
    load = Load(out_of_memory(), out_of_memory())
    with pytest.raises(RuntimeError):
        with_headroom(load, "duckdb")
    assert len(load.destinations) == 2


@pytest.mark.parametrize(
    "destination, error, limit",
    [
        ("duckdb", out_of_memory(), "128MB"),  # a cap the user set is kept
        ("postgres", out_of_memory(), None),
        ("duckdb", RuntimeError("Conversion Error"), None),
    ],
)
def test_other_failures_stand(workdir: Path, monkeypatch, destination: str, error: BaseException, limit) -> None:
    if limit:
        monkeypatch.setenv("DESTINATION__DUCKDB__MEMORY_LIMIT", limit)
    load = Load(error)
    with pytest.raises(type(error)):
        with_headroom(load, destination)
    assert load.destinations == [None]
