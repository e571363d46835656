"""`woku_pipeline.py voicemails --manifest FILE`: import audio reviews into Woku, each voicemail at most once.

The policy on the write-back engine: what a row is (`voicemail_rows.py`), how a send goes through the
ledger (`ledger.py`: saved `pending` before the POST, which has no idempotency key and is never retried),
and what a lost answer means (`lost_answers.py`: the row is looked for among the woku's reviews before
any re-send). A row whose answer was lost and that was not created is sent once more in the same run.

Tables, loaded once per run after the sends, by the pipeline `<pipeline-name>_voicemails` (schema
`woku_voicemails`) into the same dataset (`voicemail_tables.py`):
- `voicemails`, merged on `ledger_key`: the API's answer per submitted voicemail (for a recovered one, the
  review found for it), with the ledger key, its parts, the manifest row and file, and the ledger status.
- `voicemail_results`, merged on (`run_id`, `row_number`): one row per manifest row per run: status
  accepted, recovered, uncertain, skipped (imported by an earlier run), duplicate, invalid, rejected, failed
  or ambiguous, with the HTTP status and the reason. Each is journaled as it is decided (`outcomes.py`): a
  run killed or whose load failed leaves them in the journal, and the next run loads them first.

`--dry-run` checks the manifest, reads the ledger if it exists, and prints what each row would do; it sends
nothing and writes nothing (it needs no API key).

Exit status: 0 when every row is imported (accepted, recovered or uncertain, in this run or an earlier one; a
duplicate row counts as its first row); 6 when any row is not (invalid, rejected, failed, ambiguous; in a dry
run, invalid). Errors that stop the run use run_cli's codes: 1 another import holds the ledger (PostgreSQL),
2 configuration or manifest, 3 API key rejected, 5 destination (e.g. the DuckDB file is locked by another run).
"""

import hashlib
import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

from pipelines.writeback.engine import Sent, send_rows
from pipelines.writeback.ledger import (
    ACCEPTED,
    AMBIGUOUS,
    NOT_CREATED,
    PENDING,
    REJECTED,
    SUBMITTED,
    Ledger,
    LedgerBook,
    LedgerEntry,
)
from pipelines.writeback.lost_answers import DEFAULT_SKEW_SECONDS, LostAnswerRule
from pipelines.writeback.voicemail_rows import Checked, Invalid, Voicemail
from sources.http_kit import ApiError, AuthError, SourceError
from sources.http_kit.redact import one_line

logger = logging.getLogger(__name__)

CLASSIC_PATH = "/wokus/create-voicemail"
V1_PATH = "/v1/wokus/{woku_id}/voicemails"
LANGUAGES = ("es", "en")
#: after this many lost answers in a row the API is down: the remaining rows are not sent
MAX_CONSECUTIVE_LOST = 5
# outcome statuses of a manifest row in one run, besides the ledger's
SKIPPED = "skipped"
DUPLICATE = "duplicate"
INVALID = "invalid"
FAILED = "failed"
#: outcomes that leave the row imported; anything else makes the run's exit status non-zero
IMPORTED = (*SUBMITTED, SKIPPED)
STATUS_ORDER = [
    "accepted",
    "recovered",
    "uncertain",
    "skipped",
    "duplicate",
    "invalid",
    "rejected",
    "failed",
    "ambiguous",
]


# ---------------------------------------------------------------------------------------------- outcomes
@dataclass
class Outcome:
    """What became of one manifest row in this run (a row of `voicemail_results`)."""

    row: int
    file: str
    woku_id: Optional[str]
    key: Optional[str]
    status: str
    http_status: Optional[int] = None
    message: Optional[str] = None
    attempts: int = 0


@dataclass
class ImportReport:
    outcomes: List[Outcome]
    posts: int = 0
    #: what the lost-answer rule decided for entries earlier runs left pending
    earlier: Dict[str, int] = field(default_factory=dict)
    stopped: Optional[str] = None
    #: the API rejected the key mid-run: the outcomes are complete, but the run must end in this error
    aborted: Optional[SourceError] = None

    def counts(self) -> Dict[str, int]:
        counts: Dict[str, int] = {}
        for o in self.outcomes:
            counts[o.status] = counts.get(o.status, 0) + 1
        return counts

    def all_imported(self) -> bool:
        """Every row ended imported now or earlier (a duplicate counts as its first row)."""
        by_key = {o.key: o for o in self.outcomes if o.key and o.status != DUPLICATE}
        for o in self.outcomes:
            first = by_key.get(o.key) if o.status == DUPLICATE else o
            if first is None or first.status not in IMPORTED:
                return False
        return True


def submit(client: Any, vm: Voicemail, content: bytes, *, v1: bool, language: str) -> Any:
    """One multipart POST, never retried once it may have reached the server."""
    fields: Dict[str, str] = {"qualification": str(vm.qualification)}
    if vm.email:
        fields["clientEmail"] = vm.email
    if vm.phone:
        fields["clientPhone"] = vm.phone
    fields["anonymous"] = "true" if vm.anonymous else "false"
    if v1:
        path = V1_PATH.format(woku_id=vm.woku_id)
        fields["language"] = language
    else:
        path = CLASSIC_PATH
        fields = {"wokuId": vm.woku_id, **fields}
    files = {"file": (os.path.basename(vm.path), content, vm.mime)}
    return client.post(path, data=fields, files=files, idempotent=False)


# ------------------------------------------------------------------------------------------------ import
class VoicemailImporter:
    """The voicemail policy on the write-back engine: rows sent one at a time in manifest order, through the
    ledger; lost answers settled by the lost-answer rule after the loop."""

    def __init__(
        self,
        client: Any,
        ledger: Ledger,
        *,
        v1: bool = False,
        language: str = "es",
        settle: float = 60.0,
        skew: float = DEFAULT_SKEW_SECONDS,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        max_consecutive_lost: int = MAX_CONSECUTIVE_LOST,
        record: Optional[Callable[[Outcome], None]] = None,
    ) -> None:
        """`record` gets each row's outcome as it is decided (the journal); a lost answer's once it is settled."""
        self.client, self._clock = client, clock
        self._record = record or (lambda _: None)
        self.v1, self.language = v1, language
        self.max_consecutive_lost = max_consecutive_lost
        self.book = LedgerBook(ledger, clock)
        self.rule = LostAnswerRule(client, self.book, settle=settle, skew=skew, clock=clock, sleep=sleep)
        self.posts = 0
        self._first_row: Dict[str, Voicemail] = {}
        self._resolved_now: Set[str] = set()

    @property
    def entries(self) -> Dict[str, LedgerEntry]:
        return self.book.entries

    def run(self, items: Sequence[Checked]) -> ImportReport:
        self.book.load()
        report = ImportReport(outcomes=[])
        earlier = [e for e in self.entries.values() if e.status == PENDING]
        self._first_row, self._resolved_now = {}, set()
        if earlier:
            logger.warning(
                "%d voicemail(s) from an interrupted run: checking their wokus' reviews before any re-send",
                len(earlier),
            )
            for e in self.rule.resolve(earlier):
                report.earlier[e.status] = report.earlier.get(e.status, 0) + 1
                self._resolved_now.add(e.key)

        run = send_rows(items, self, max_consecutive_failures=self.max_consecutive_lost, on_outcome=self._record)
        outcomes, lost = run.outcomes, run.lost
        settled_later = [index for index, _ in lost]
        report.stopped, report.aborted = run.stopped, run.aborted
        for round_ in (1, 2):
            if not lost:
                break
            self.rule.resolve([self.entries[vm.key] for _, vm in lost])
            again: List[Tuple[int, Voicemail]] = []
            for index, vm in lost:
                entry = self.entries[vm.key]
                if entry.status == NOT_CREATED and round_ == 1 and report.stopped is None and report.aborted is None:
                    try:
                        outcome = self.post(vm)
                    except AuthError as exc:
                        report.aborted = exc
                        outcome = self._outcome(vm, FAILED, one_line(str(exc)), 401)
                    if outcome is None:
                        again.append((index, vm))
                        continue
                    outcomes[index] = outcome
                    continue
                outcomes[index] = self._settled_outcome(vm, entry)
            lost = again
        for index, vm in lost:
            outcomes[index] = self._settled_outcome(vm, self.entries[vm.key])
        for index in settled_later:
            settled = outcomes[index]
            if settled is not None:
                self._record(settled)

        report.outcomes = [o for o in outcomes if o is not None]
        report.posts = self.posts
        return report

    # ---------------------------------------------------------------- the engine's policy
    def settled(self, item: Checked) -> Optional[Outcome]:
        """Invalid, duplicate, or decided by the ledger: no POST."""
        if isinstance(item, Invalid):
            return Outcome(item.row, item.file, item.woku_id, None, INVALID, None, item.reason)
        if item.key in self._first_row:
            same = self._first_row[item.key].row
            return self._outcome(item, DUPLICATE, f"same woku, file and client as row {same}: not sent")
        self._first_row[item.key] = item
        entry = self.entries.get(item.key)
        if entry is not None and entry.status in SUBMITTED and item.key in self._resolved_now:
            # an interrupted run's send, found among the reviews just now
            return self._outcome(item, entry.status, entry.message, entry.http_status)
        if entry is not None and entry.status in SUBMITTED:
            return self._outcome(item, SKIPPED, f"already {entry.status} in an earlier run")
        if entry is not None and entry.status in (AMBIGUOUS, PENDING):
            status = AMBIGUOUS if entry.status == AMBIGUOUS else FAILED
            return self._outcome(item, status, f"not sent: {entry.message or 'unresolved earlier send'}")
        return None

    def send(self, vm: Voicemail) -> Sent[Outcome]:
        outcome = self.post(vm)
        answered = outcome is not None and outcome.status in (ACCEPTED, REJECTED)
        return Sent(outcome, answered=answered, failed=outcome is None)

    def not_sent(self, vm: Voicemail, message: str, http_status: Optional[int] = None) -> Outcome:
        return self._outcome(vm, FAILED, message, http_status)

    def key_revoked(self, vm: Voicemail, message: str) -> Sent[Outcome]:
        return Sent(self._outcome(vm, FAILED, message, 401), failed=False)

    def stop_reason(self, failures: int, last: Sent[Outcome]) -> str:
        return f"{failures} answers in a row were lost (the API looks unavailable)"

    # ---------------------------------------------------------------- one send
    def post(self, vm: Voicemail) -> Optional[Outcome]:
        """POST one row: its Outcome, or None when the answer was lost (the entry stays pending)."""
        try:
            with open(vm.path, "rb") as fh:
                content = fh.read()
        except OSError as exc:
            return self._outcome(vm, INVALID, f"file {vm.file!r} cannot be read: {exc.strerror or type(exc).__name__}")
        if hashlib.sha256(content).hexdigest() != vm.sha256:
            return self._outcome(vm, INVALID, f"file {vm.file!r} changed since it was checked: not sent")

        entry = self.entries.get(vm.key) or LedgerEntry(
            vm.key, vm.woku_id, vm.sha256, vm.client, vm.anonymous, vm.qualification
        )
        entry.status, entry.attempts = PENDING, entry.attempts + 1
        entry.sent_at, entry.ended_at = self._clock(), None
        entry.http_status = entry.message = None
        entry.route = "v1" if self.v1 else "classic"
        entry.language = self.language if self.v1 else None
        entry.manifest_row, entry.manifest_file = vm.row, vm.file
        self.book.save(entry)  # durable before the POST: a run that dies from here on leaves a trace
        self.posts += 1
        try:
            answer = submit(self.client, vm, content, v1=self.v1, language=self.language)
        except AuthError:
            entry.status, entry.http_status, entry.ended_at = NOT_CREATED, 401, self._clock()
            entry.message = "the API rejected the key (401): not created"
            self.book.save(entry)
            raise
        except ApiError as exc:
            entry.ended_at = self._clock()
            entry.http_status = exc.status
            if exc.status is not None and 400 <= exc.status < 500:
                entry.status = REJECTED
                entry.message = one_line(exc.describe())
                self.book.save(entry)
                return self._outcome(vm, REJECTED, entry.message, exc.status, entry.attempts)
            # a 5xx, a reset, a timeout, a bad body: the server may have created it
            entry.message = (
                f"answer lost: {one_line(exc.describe())}; checked against the woku's reviews before any re-send"
            )
            self.book.save(entry)
            logger.warning("row %d: %s", vm.row, entry.message)
            return None
        entry.status, entry.ended_at = ACCEPTED, self._clock()
        entry.answer = answer if isinstance(answer, dict) else {}
        entry.client_id = _text(entry.answer.get("clientId"))
        file = entry.answer.get("file") if isinstance(entry.answer.get("file"), dict) else {}
        entry.file_url = _text(file.get("url"))
        entry.message = None if entry.answer else "the API answered 2xx without a body"
        self.book.save(entry)
        return self._outcome(vm, ACCEPTED, None, 201, entry.attempts)

    # ---------------------------------------------------------------- helpers
    def _settled_outcome(self, vm: Voicemail, entry: LedgerEntry) -> Outcome:
        if entry.status in SUBMITTED or entry.status == AMBIGUOUS:
            return self._outcome(vm, entry.status, entry.message, entry.http_status, entry.attempts)
        if entry.status == NOT_CREATED:
            why = "answer lost again; checked: not created" if entry.attempts > 1 else entry.message
            return self._outcome(vm, FAILED, f"{why}; will be sent by the next run", entry.http_status, entry.attempts)
        return self._outcome(vm, FAILED, entry.message, entry.http_status, entry.attempts)

    def _outcome(
        self, vm: Voicemail, status: str, message: Optional[str], http_status: Optional[int] = None, attempts: int = 0
    ) -> Outcome:
        entry = self.entries.get(vm.key)
        attempts = attempts or (entry.attempts if entry else 0)
        return Outcome(vm.row, vm.file, vm.woku_id, vm.key, status, http_status, message, attempts)


def _text(value: Any) -> Optional[str]:
    return value if isinstance(value, str) and value else None
