"""The write-back engine: send checked rows one at a time, give every row an outcome, know when to stop.

One loop for every write-back, so the rules that protect the API and the user hold everywhere:
- rows go out in input order, one at a time; a row the policy settles without sending costs no request;
- a key rejected before any answer stops the run at once (one error line, nothing worth recording);
  rejected after the API answered (revoked mid-run), the row and every later one get an outcome and the
  run then ends in that error;
- after N failures in a row the API is down: later rows are not sent, each is `not sent: <why>`.
A policy (`trackers.py`, `voicemails.py`) says what a row is, how it is sent and what an answer means.
"""

import sys
from dataclasses import dataclass, field
from typing import Callable, Generic, List, Optional, Protocol, Sequence, Tuple, TypeVar

from pipelines.runner.cli import EXIT_DESTINATION, EXIT_INCOMPLETE, FailureWithStatus, explain
from sources.http_kit import AuthError, SourceError
from sources.http_kit.redact import one_line

#: problems printed to stderr after a run; the results table holds them all
SHOWN_PROBLEMS = 10

R = TypeVar("R")
Out = TypeVar("Out")


@dataclass(frozen=True)
class Sent(Generic[Out]):
    """What one send gave: the row's outcome (None: the answer was lost, the policy settles it later)."""

    outcome: Optional[Out]
    #: the API answered (so a later 401 is a key revoked mid-run, not a bad key)
    answered: bool = False
    #: True counts towards the consecutive-failure stop, False resets the count, None (no request) neither
    failed: Optional[bool] = False


class Policy(Protocol[R, Out]):
    """What the engine needs from a write-back."""

    def settled(self, row: R) -> Optional[Out]:
        """The row's outcome without sending it (invalid, duplicate, done earlier), or None to send it."""
        ...

    def send(self, row: R) -> Sent[Out]:
        """Send one row; AuthError propagates (every later row would fail the same way)."""
        ...

    def not_sent(self, row: R, message: str, http_status: Optional[int] = None) -> Out:
        """The outcome of a row the run could not send."""
        ...

    def key_revoked(self, row: R, message: str) -> Sent[Out]:
        """The row whose send met a key revoked mid-run (HTTP 401), and whether it counts as a failure."""
        ...

    def stop_reason(self, failures: int, last: Sent[Out]) -> str:
        """Why sending stops after `failures` failures in a row."""
        ...


@dataclass
class Run(Generic[R, Out]):
    """Every row's outcome in input order (None for a lost answer, listed in `lost`), and why it stopped."""

    outcomes: List[Optional[Out]] = field(default_factory=list)
    lost: List[Tuple[int, R]] = field(default_factory=list)
    #: why sending stopped before the end (the rows not sent have an outcome), if it did
    stopped: Optional[str] = None
    #: the API rejected the key mid-run: the outcomes are complete, but the run must end in this error
    aborted: Optional[SourceError] = None

    @property
    def halted(self) -> Optional[str]:
        """Why no more rows are sent, or None while they are."""
        if self.stopped is not None:
            return self.stopped
        return f"the API rejected the key: {self.aborted}" if self.aborted is not None else None


def send_rows(
    rows: Sequence[R],
    policy: Policy[R, Out],
    *,
    max_consecutive_failures: int,
    last_to_send: Optional[int] = None,
    on_outcome: Optional[Callable[[Out], None]] = None,
) -> Run[R, Out]:
    """Send every row the policy does not settle itself, in order (see the module docstring).

    `last_to_send`: the index of the last row that can be sent; failures on it do not `stop` the run
    (nothing is left to spare). None: any run of failures stops it. `on_outcome` gets each outcome as it
    is decided (the journal makes it durable before the next row goes out); a lost answer's comes later.
    """
    run: Run[R, Out] = Run()
    failures, answered = 0, False
    record = on_outcome or (lambda _: None)
    for index, row in enumerate(rows):
        done = policy.settled(row)
        if done is not None:
            run.outcomes.append(done)
            record(done)
            continue
        if run.halted is not None:
            skipped = policy.not_sent(row, one_line(f"not sent: {run.halted}"))
            run.outcomes.append(skipped)
            record(skipped)
            continue
        try:
            sent = policy.send(row)
        except AuthError as exc:
            if not answered:
                raise  # a bad key from the start: one error line, nothing to record
            run.aborted = exc
            sent = policy.key_revoked(row, one_line(str(exc)))
        run.outcomes.append(sent.outcome)
        if sent.outcome is None:
            run.lost.append((index, row))
        else:
            record(sent.outcome)
        answered = answered or sent.answered
        if sent.failed is False:
            failures = 0
        elif sent.failed:
            failures += 1
            if failures >= max_consecutive_failures and (last_to_send is None or index < last_to_send):
                run.stopped = policy.stop_reason(failures, sent)
    return run


# ----------------------------------------------------------------------------------------------- the end
def summary_line(head: str, notes: Sequence[str], stopped: Optional[str], tail: str) -> str:
    """`<counts>; <notes>; stopped sending: <why>; <where the results are>`: one line per run."""
    parts = [head, *notes]
    if stopped:
        parts.append(f"stopped sending: {stopped}")
    parts.append(tail)
    return "; ".join(parts)


def show_problems(problems: Sequence[Tuple[int, str, Optional[str]]], table: str) -> None:
    """The first (row, status, message) that were not written, on stderr: enough to see the pattern."""
    for row, status, message in problems[:SHOWN_PROBLEMS]:
        print(f"row {row}: {status}: {message}", file=sys.stderr)
    if len(problems) > SHOWN_PROBLEMS:
        print(f"... and {len(problems) - SHOWN_PROBLEMS:,} more, see {table}", file=sys.stderr)


def finish(
    *,
    summary: Callable[[str], str],
    load: Optional[Callable[[], None]],
    tail: str,
    not_loaded: str,
    problems: Sequence[Tuple[int, str, Optional[str]]],
    table: str,
    aborted: Optional[SourceError],
    complete: bool,
) -> int:
    """Load the outcomes, print the summary and the first problems, and give the exit status.

    `tail` (where the results are) is printed only once they landed. A failed load prints the summary with
    `not_loaded` (where the outcomes are kept) on stderr, then ends the run with exit 5: what was sent is
    not lost from view, and the status says the results did not land.
    """
    if load is not None:
        try:
            load()
        except Exception as exc:
            explained = explain(exc)
            print(summary(not_loaded), file=sys.stderr)
            if explained is None:
                raise  # a bug: its traceback
            raise FailureWithStatus(explained[0], EXIT_DESTINATION) from exc
    print(summary(tail))
    show_problems(problems, table)
    if aborted is not None:
        raise aborted
    return 0 if complete else EXIT_INCOMPLETE
