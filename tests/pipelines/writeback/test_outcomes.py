"""What every write-back shares: the journal reads back exactly what was written, once per key, skipping a
torn last line; sending stops when it must; one summary line, the first problems, the exit status."""

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Callable, Dict, List, Optional, Tuple

import pytest

from pipelines.runner.cli import EXIT_INCOMPLETE
from pipelines.writeback.outcomes import (
    Journal,
    Outcomes,
    Sending,
    columns_of,
    read_journal,
    show_problems,
    summary_line,
)
from sources.http_kit import AuthError


@dataclass
class Row:
    row_number: int
    status: Optional[str]
    at: Optional[datetime]
    message: Optional[str]
    run_id: Optional[str]


COLUMNS = columns_of(Row)
AT = datetime(2026, 3, 1, 12, 30, 45, 123456, tzinfo=timezone(timedelta(hours=-3)))


def test_records_read_back_with_their_run_id_and_exact_timestamps(tmp_path: Path) -> None:
    path = str(tmp_path / "woku_trackers.journal.jsonl")
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


# ---------------------------------------------------------------------------------------------- sending
def send(answers: str, limit: int = 10, last: Optional[int] = None) -> Tuple[List[str], Sending, List[int]]:
    """A write-back loop over rows whose letters say what happens: o ok, f failed, l lost, k key refused (401),
    s settled without sending, n no request; the outcomes, the rules' state and the rows sent."""
    sending, outcomes, sent = Sending(limit), [], []
    for n, answer in enumerate(answers, 1):
        if answer == "s":
            outcomes.append(f"{n}:skipped")
        elif sending.halted:
            outcomes.append(f"{n}:{sending.halted}")
        elif answer == "n":
            outcomes.append(f"{n}:free")
        else:
            sent.append(n)
            if answer == "k":
                outcomes.append(f"{n}:401 {sending.revoked(AuthError('the API rejected the key'))}")
                continue
            failed = answer in "fl"
            can_stop = last is None or n - 1 < last
            if sending.count(answered=answer == "o", failed=failed, can_stop=can_stop):
                sending.stopped = f"{sending.failures} failures"
            outcomes.append(f"{n}:{answer}")
    return outcomes, sending, sent


def test_a_bad_key_before_any_answer_raises() -> None:
    with pytest.raises(AuthError):
        send("fko")


def test_a_key_revoked_after_an_answer_gives_every_row_an_outcome() -> None:
    outcomes, sending, sent = send("okos")
    assert outcomes == [
        "1:o",
        "2:401 the API rejected the key",
        "3:not sent: the API rejected the key: the API rejected the key",
        "4:skipped",
    ]
    assert isinstance(sending.aborted, AuthError) and sent == [1, 2]


def test_consecutive_failures_stop_sending_and_a_success_resets_the_count() -> None:
    outcomes, sending, sent = send("foflnfo", limit=3)
    assert sent == [1, 2, 3, 4, 6]  # the request-free row neither counts nor resets
    assert sending.stopped == "3 failures" and outcomes[-1] == "7:not sent: 3 failures"


def test_failures_on_the_last_row_to_send_do_not_stop_when_told() -> None:
    assert send("fffs", limit=3, last=2)[1].stopped is None
    assert send("fffs", limit=3)[1].stopped == "3 failures"


def test_summary_line_and_problems(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        summary_line("3 rows", ["note"], "down", "results in t") == "3 rows; note; stopped sending: down; results in t"
    )
    assert summary_line("0 rows", [], None, "nothing to send") == "0 rows; nothing to send"
    show_problems([(n, "failed", f"m{n}") for n in range(1, 13)], "results_table")
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "row 1: failed: m1" and len(err) == 11 and err[-1] == "... and 2 more, see results_table"


def outcomes_of(tmp_path: Path, load: Callable[[], int], written: int = 1) -> Outcomes:
    """Outcomes whose load is `load`, with `written` rows journaled."""
    outcomes = Outcomes(
        None, "duckdb", "ds", "t", COLUMNS, "s", str(tmp_path / "j.jsonl"), Journal(str(tmp_path / "j"))
    )
    outcomes.load = load  # type: ignore[method-assign]
    assert outcomes.journal is not None
    outcomes.journal.written = written
    return outcomes


def test_finish_loads_prints_and_gives_the_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    loaded: Dict[str, int] = {}
    problems: List[Tuple[int, str, Optional[str]]] = [(2, "rejected", "HTTP 404")]
    outcomes = outcomes_of(tmp_path, lambda: loaded.setdefault("n", 1))
    code = outcomes.finish(lambda tail: f"2 rows; {tail}", problems, aborted=None, complete=False, empty="none")
    out = capsys.readouterr()
    assert code == EXIT_INCOMPLETE and loaded == {"n": 1}
    assert out.out == "2 rows; results in ds.t\n" and out.err == "row 2: rejected: HTTP 404\n"
    nothing = outcomes_of(tmp_path, lambda: loaded.clear() or 0, written=0)
    assert nothing.finish(lambda tail: f"0 rows; {tail}", [], aborted=None, complete=True, empty="none") == 0
    assert capsys.readouterr().out == "0 rows; none\n" and loaded == {"n": 1}, "nothing to load: no load"


def test_a_failed_load_still_shows_the_summary_and_an_abort_ends_in_its_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken() -> int:
        raise RuntimeError("destination down")

    with pytest.raises(RuntimeError):
        outcomes_of(tmp_path, broken).finish(lambda tail: f"1 row; {tail}", [], aborted=None, complete=True, empty="")
    assert (
        capsys.readouterr().err == f"1 row; results NOT loaded: the 1 outcomes are kept in {tmp_path / 'j.jsonl'}"
        " and the next run loads them before it sends anything\n"
    )
    with pytest.raises(AuthError):
        outcomes_of(tmp_path, lambda: 0).finish(str, [], aborted=AuthError("revoked"), complete=True, empty="")


def test_a_journal_of_only_a_torn_line_is_removed_once_read(tmp_path: Path) -> None:
    """Else this run's first line would be glued to the torn one, and the next run could not read it."""
    path = tmp_path / "j.jsonl"
    path.write_text('{"row_number": 2, "sta', encoding="utf-8")
    pipeline = SimpleNamespace(has_pending_data=False)
    assert Outcomes(pipeline, "duckdb", "ds", "t", COLUMNS, "s", str(path)).load() == 0
    assert not path.exists()
