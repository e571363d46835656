"""The account-column upgrade runs once per dataset and is recorded; a recorded dataset is not probed."""

from pathlib import Path

import dlt
import duckdb

from pipelines.warehouse.migrations import RECORD_TABLE, upgrade_dataset


def legacy_pipeline(workdir: Path):
    """A dataset as an old release left it: `responses` without the account column."""
    pipeline = dlt.pipeline("legacy", destination=dlt.destinations.duckdb(str(workdir / "legacy.duckdb")), dataset_name="w")
    pipeline.run([{"id": 1, "score": 9}, {"id": 2, "score": 3}], table_name="responses")
    return pipeline


def columns(workdir: Path, table: str) -> set:
    with duckdb.connect(str(workdir / "legacy.duckdb")) as con:
        rows = con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'w' AND table_name = ?", [table]
        ).fetchall()
    return {r[0] for r in rows}


def test_the_upgrade_names_the_account_once_and_records_it(workdir: Path) -> None:
    pipeline = legacy_pipeline(workdir)
    upgrade_dataset(pipeline, ("responses", "declines"), "acme", "wootric")
    with duckdb.connect(str(workdir / "legacy.duckdb")) as con:
        assert con.execute("SELECT DISTINCT account FROM w.responses").fetchall() == [("acme",)]
        assert [r[0] for r in con.execute(f"SELECT name FROM w.{RECORD_TABLE}").fetchall()] == ["account_column"]
        # what a later release would never see again: the column gone (a hand-made table, say)
        con.execute("ALTER TABLE w.responses DROP COLUMN account")
    upgrade_dataset(pipeline, ("responses", "declines"), "acme", "wootric")
    assert "account" not in columns(workdir, "responses"), "a recorded migration must not run (or probe) again"


def test_a_new_dataset_is_left_alone(workdir: Path) -> None:
    pipeline = dlt.pipeline("fresh", destination=dlt.destinations.duckdb(str(workdir / "legacy.duckdb")), dataset_name="w")
    upgrade_dataset(pipeline, ("responses",), "acme", "wootric")
    assert not (workdir / "w.duckdb").exists() or columns(workdir, RECORD_TABLE) == set()
