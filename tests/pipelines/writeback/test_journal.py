"""The outcome journal: what was written is read back exactly, once per key, and a torn last line is skipped."""

from datetime import datetime, timedelta, timezone
from pathlib import Path

from pipelines.writeback.journal import Journal, journal_path, read_journal
from pipelines.writeback.results import column

COLUMNS = {
    "row_number": column("bigint", False),
    "status": column("text"),
    "at": column("timestamp", timezone=True),
    "message": column("text"),
    "run_id": column("text"),
}
AT = datetime(2026, 3, 1, 12, 30, 45, 123456, tzinfo=timezone(timedelta(hours=-3)))


def test_records_read_back_with_their_run_id_and_exact_timestamps(tmp_path: Path) -> None:
    path = journal_path(str(tmp_path), "woku_trackers")
    journal = Journal(path, run_id="r1")
    journal.write({"row_number": 1, "status": "assigned", "at": AT, "message": "Ünïcode «x»\nline"})
    journal.write({"row_number": 2, "status": None, "at": None})
    journal.close()

    rows = read_journal(path, COLUMNS)

    assert rows == [
        {"row_number": 1, "status": "assigned", "at": AT, "message": "Ünïcode «x»\nline", "run_id": "r1"},
        {"row_number": 2, "status": None, "at": None, "run_id": "r1"},
    ]
    assert rows[0]["at"].utcoffset() == AT.utcoffset() and journal.written == 2


def test_last_line_per_key_wins_and_a_torn_last_line_is_skipped(tmp_path: Path) -> None:
    path = str(tmp_path / "j.jsonl")
    first = Journal(path, run_id="r1")
    first.write({"row_number": 1, "status": "failed"})
    first.write({"row_number": 1, "status": "assigned"})
    first.close()
    second = Journal(path, run_id="r2")  # appends: another run's rows are kept apart by run_id
    second.write({"row_number": 1, "status": "rejected"})
    second.close()
    with open(path, "a", encoding="utf-8") as fh:
        fh.write('{"row_number": 2, "sta')  # the process died mid-write: never fsync'd, never reported

    rows = read_journal(path, COLUMNS)

    assert sorted((r["run_id"], r["row_number"], r["status"]) for r in rows) == [
        ("r1", 1, "assigned"),
        ("r2", 1, "rejected"),
    ]


def test_no_file_is_no_outcomes_and_remove_is_idempotent(tmp_path: Path) -> None:
    path = str(tmp_path / "absent.jsonl")
    assert read_journal(path, COLUMNS) == []
    journal = Journal(path)
    journal.remove()
    journal.remove()
    assert not Path(path).exists()
