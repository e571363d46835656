"""The voicemail ledger: entries survive a round trip through the destination, submitted ones show in the
`voicemails` view, and a dry run reads without creating
anything."""

from pathlib import Path
from typing import Any, Iterator

import dlt
import pytest

from pipelines.writeback.ledger import ACCEPTED, PENDING, UNCERTAIN, LedgerEntry, SqlLedger, read_ledger
from pipelines.writeback.lost_answers import claims, known_clients
from tests.pipelines.writeback.voicemail_helpers import T0, entry


def duckdb_pipeline(tmp_path: Path) -> Any:
    return dlt.pipeline(
        pipeline_name="ledger_test",
        destination=dlt.destinations.duckdb(str(tmp_path / "ledger.duckdb")),
        dataset_name="woku",
        pipelines_dir=str(tmp_path / "pipelines"),
    )


@pytest.fixture
def pipeline(tmp_path: Path) -> Iterator[Any]:
    yield duckdb_pipeline(tmp_path)


def test_an_entry_survives_the_round_trip(pipeline: Any) -> None:
    accepted = entry(
        "k1",
        status=ACCEPTED,
        ended_at=T0 + 1.5,
        attempts=2,
        route="v1",
        language="en",
        http_status=201,
        client_id="c-1",
        file_url="https://files/r1",
        answer={"clientId": "c-1", "qualification": {"_id": "q1", "qualification": 4}},
        manifest_row=7,
        manifest_file="a.wav",
        updated_at=T0 + 2,
    )
    with pipeline.sql_client() as sql:
        ledger = SqlLedger(sql, "duckdb")
        ledger.open()
        assert ledger.load() == {}
        ledger.save(entry("k1"))
        assert sql.execute_sql("SELECT count(*) FROM woku.voicemails") == [(0,)]  # pending: not submitted
        ledger.save(accepted)  # an upsert on the key: the latest state wins
        assert ledger.load() == {"k1": accepted}
        (row,) = sql.execute_sql("SELECT ledger_key, qualification_id, client_id, file_url FROM woku.voicemails")
        assert row == ("k1", "q1", "c-1", "https://files/r1")


def test_a_dry_run_reads_no_ledger_into_existence(tmp_path: Path) -> None:
    pipeline = duckdb_pipeline(tmp_path)
    assert read_ledger(pipeline, "duckdb") == {}
    assert not (tmp_path / "ledger.duckdb").exists()
    with pipeline.sql_client() as sql:
        ledger = SqlLedger(sql, "duckdb")
        ledger.open()
        ledger.save(entry("k2", updated_at=T0))
    assert list(read_ledger(pipeline, "duckdb")) == ["k2"]


def test_only_proven_answers_make_a_client_known_and_only_submitted_entries_claim_reviews() -> None:
    entries = [
        entry("a", status=ACCEPTED, client_id="c-ana", review_id="r1"),
        entry("b", client="email:bo@example.com", status=UNCERTAIN, client_id="c-bo", file_url="https://f/2"),
        entry("c", status=PENDING, review_id="r3"),
    ]
    assert known_clients(entries) == {"email:ana@example.com": "c-ana"}
    assert [sorted(claims(e)) for e in entries] == [["id:r1"], ["url:https://f/2"], []]


def test_settled_counts_from_the_end_of_the_post_else_from_its_start() -> None:
    assert LedgerEntry("k", "w", "s", "c", False, 4, sent_at=T0).settled_at(5) == T0 + 5
    assert LedgerEntry("k", "w", "s", "c", False, 4, sent_at=T0, ended_at=T0 + 3).settled_at(5) == T0 + 8
