"""The account-column upgrade runs once per dataset and is recorded; a recorded dataset is not probed."""

from pathlib import Path

import dlt
import duckdb

from pipelines.warehouse.migrations import RECORD_TABLE, upgrade_dataset


def warehouse(workdir: Path) -> str:
    return str(workdir / "legacy.duckdb")  # not named like the dataset: DuckDB would find `w` ambiguous


def pipeline_for(workdir: Path, name: str):
    return dlt.pipeline(name, destination=dlt.destinations.duckdb(warehouse(workdir)), dataset_name="w")


def columns(workdir: Path, table: str) -> set:
    with duckdb.connect(warehouse(workdir)) as con:
        rows = con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'w' AND table_name = ?", [table]
        ).fetchall()
    return {r[0] for r in rows}


def test_the_upgrade_names_the_account_once_and_records_it(workdir: Path) -> None:
    pipeline = pipeline_for(workdir, "legacy")
    # a dataset as an old release left it: `responses` without the account column
    pipeline.run([{"id": 1, "score": 9}, {"id": 2, "score": 3}], table_name="responses")
    upgrade_dataset(pipeline, ("responses", "declines"), "acme", "wootric")
    with duckdb.connect(warehouse(workdir)) as con:
        assert con.execute("SELECT DISTINCT account FROM w.responses").fetchall() == [("acme",)]
        assert [r[0] for r in con.execute(f"SELECT name FROM w.{RECORD_TABLE}").fetchall()] == ["account_column"]
        # what a later run must never look at again: the column gone (a hand-made table, say)
        con.execute("ALTER TABLE w.responses DROP COLUMN account")
    upgrade_dataset(pipeline, ("responses", "declines"), "acme", "wootric")
    assert "account" not in columns(workdir, "responses"), "a recorded migration must not run (or probe) again"


def test_a_new_dataset_is_left_alone(workdir: Path) -> None:
    upgrade_dataset(pipeline_for(workdir, "fresh"), ("responses",), "acme", "wootric")
    assert columns(workdir, RECORD_TABLE) == set()
