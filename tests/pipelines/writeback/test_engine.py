"""The write-back engine with a scripted policy: order, outcomes for every row, and when sending stops."""

from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import pytest

from pipelines.writeback.engine import EXIT_INCOMPLETE, Sent, finish, send_rows, show_problems, summary_line
from sources.http_kit import AuthError


@dataclass(frozen=True)
class Row:
    n: int
    answer: str  # "ok", "fail", "lost", "401", "skip" (settled without sending), "free" (no request)


class Script:
    """A policy whose rows say what happens to them; it records what was sent."""

    def __init__(self) -> None:
        self.sent: List[int] = []

    def settled(self, row: Row) -> Optional[str]:
        return f"{row.n}:skipped" if row.answer == "skip" else None

    def send(self, row: Row) -> Sent[str]:
        if row.answer == "free":
            return Sent(f"{row.n}:free", failed=None)
        self.sent.append(row.n)
        if row.answer == "401":
            raise AuthError("the API rejected the key")
        if row.answer == "lost":
            return Sent(None, failed=True)
        failed = row.answer == "fail"
        return Sent(f"{row.n}:{row.answer}", answered=not failed, failed=failed)

    def not_sent(self, row: Row, message: str, http_status: Optional[int] = None) -> str:
        return f"{row.n}:{message}"

    def key_revoked(self, row: Row, message: str) -> Sent[str]:
        return Sent(f"{row.n}:401 {message}", failed=True)

    def stop_reason(self, failures: int, last: Sent[str]) -> str:
        return f"{failures} failures"


def rows(*answers: str) -> List[Row]:
    return [Row(n, a) for n, a in enumerate(answers, 1)]


def test_every_row_keeps_an_outcome_in_order_and_settled_rows_cost_nothing() -> None:
    policy = Script()
    run = send_rows(rows("ok", "skip", "fail", "lost", "ok"), policy, max_consecutive_failures=10)
    assert run.outcomes == ["1:ok", "2:skipped", "3:fail", None, "5:ok"]
    assert run.lost == [(3, Row(4, "lost"))] and policy.sent == [1, 3, 4, 5]
    assert run.stopped is None and run.aborted is None


def test_a_bad_key_before_any_answer_raises() -> None:
    with pytest.raises(AuthError):
        send_rows(rows("fail", "401", "ok"), Script(), max_consecutive_failures=10)


def test_a_key_revoked_after_an_answer_gives_every_row_an_outcome() -> None:
    policy = Script()
    run = send_rows(rows("ok", "401", "ok", "skip"), policy, max_consecutive_failures=10)
    assert run.outcomes == [
        "1:ok",
        "2:401 the API rejected the key",
        "3:not sent: the API rejected the key: the API rejected the key",
        "4:skipped",
    ]
    assert isinstance(run.aborted, AuthError) and policy.sent == [1, 2]


def test_consecutive_failures_stop_sending_and_a_success_resets_the_count() -> None:
    policy = Script()
    run = send_rows(rows("fail", "ok", "fail", "lost", "free", "fail", "ok"), policy, max_consecutive_failures=3)
    assert policy.sent == [1, 2, 3, 4, 6]  # the request-free row neither counts nor resets
    assert run.stopped == "3 failures" and run.outcomes[-1] == "7:not sent: 3 failures"


def test_failures_on_the_last_row_to_send_do_not_stop_when_told() -> None:
    answers = ("fail", "fail", "fail", "skip")
    assert send_rows(rows(*answers), Script(), max_consecutive_failures=3, last_to_send=2).stopped is None
    assert send_rows(rows(*answers), Script(), max_consecutive_failures=3).stopped == "3 failures"


def test_summary_line_and_problems(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        summary_line("3 rows", ["note"], "down", "results in t") == "3 rows; note; stopped sending: down; results in t"
    )
    assert summary_line("0 rows", [], None, "nothing to send") == "0 rows; nothing to send"
    show_problems([(n, "failed", f"m{n}") for n in range(1, 13)], "results_table")
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "row 1: failed: m1" and len(err) == 11 and err[-1] == "... and 2 more, see results_table"


def test_finish_loads_prints_and_gives_the_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    loaded: Dict[str, int] = {}
    problems: List[Tuple[int, str, Optional[str]]] = [(2, "rejected", "HTTP 404")]
    kwargs = dict(summary=lambda tail: f"2 rows; {tail}", tail="results in t", not_loaded="NOT loaded", table="t")
    code = finish(load=lambda: loaded.update(n=1), problems=problems, aborted=None, complete=False, **kwargs)
    out = capsys.readouterr()
    assert code == EXIT_INCOMPLETE and loaded == {"n": 1}
    assert out.out == "2 rows; results in t\n" and out.err == "row 2: rejected: HTTP 404\n"
    assert finish(load=None, problems=[], aborted=None, complete=True, **kwargs) == 0


def test_a_failed_load_still_shows_the_summary_and_an_abort_ends_in_its_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    kwargs = dict(summary=lambda tail: f"1 row; {tail}", tail="ok", not_loaded="NOT loaded", table="t", problems=[])

    def broken() -> None:
        raise RuntimeError("destination down")

    with pytest.raises(RuntimeError):
        finish(load=broken, aborted=None, complete=True, **kwargs)
    assert capsys.readouterr().err == "1 row; NOT loaded\n"
    with pytest.raises(AuthError):
        finish(load=None, aborted=AuthError("revoked"), complete=True, **kwargs)
