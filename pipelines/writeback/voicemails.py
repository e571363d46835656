"""`woku_pipeline.py voicemails --manifest FILE`: import audio reviews into Woku, each voicemail at most once:
one row at a time through the ledger, lost answers settled by the lost-answer rule before any re-send (one
found not created is sent once more in the same run). See docs/writeback.md."""

import argparse
import hashlib
import logging
import os
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

from pipelines.runner.cli import EXIT_INCOMPLETE
from pipelines.writeback.ledger import (
    ACCEPTED,
    AMBIGUOUS,
    NOT_CREATED,
    PENDING,
    REJECTED,
    SUBMITTED,
    Ledger,
    LedgerEntry,
    SqlLedger,
    read_ledger,
)
from pipelines.writeback.lost_answers import DEFAULT_SKEW_SECONDS, LostAnswerRule, answer_ids
from pipelines.writeback.outcomes import Sending, columns_of, outcome_session, results_pipeline, summary_line
from pipelines.writeback.voicemail_rows import Checked, Invalid, Voicemail, read_manifest
from sources.http_kit import ApiError, AuthError, ConfigError, SourceError
from sources.http_kit.redact import one_line
from sources.woku import woku_client
from sources.woku.helpers.client import WokuClient

logger = logging.getLogger(__name__)

CLASSIC_PATH = "/wokus/create-voicemail"
V1_PATH = "/v1/wokus/{woku_id}/voicemails"
LANGUAGES = ("es", "en")
RESULTS_TABLE = "voicemail_results"
#: after this many lost answers in a row the API is down: the remaining rows are not sent
MAX_CONSECUTIVE_LOST = 5
# outcome statuses of a manifest row in one run, besides the ledger's
SKIPPED = "skipped"
DUPLICATE = "duplicate"
INVALID = "invalid"
FAILED = "failed"
#: outcomes that leave the row imported; anything else makes the run's exit status non-zero
IMPORTED = (*SUBMITTED, SKIPPED)
STATUS_ORDER = [*SUBMITTED, SKIPPED, DUPLICATE, INVALID, REJECTED, FAILED, AMBIGUOUS]


@dataclass
class Outcome:
    """What became of one manifest row in this run (a row of `voicemail_results`)."""

    row_number: int
    file: str
    woku_id: Optional[str]
    ledger_key: Optional[str]
    status: str
    http_status: Optional[int] = None
    message: Optional[str] = None
    attempts: int = 0


@dataclass
class RunStamp:
    """The columns of `voicemail_results` that say which run and manifest a row comes from."""

    manifest: str
    run_at: datetime


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
        return Counter(o.status for o in self.outcomes)

    def all_imported(self) -> bool:
        """Every row ended imported now or earlier (a duplicate counts as its first row)."""
        by_key = {o.ledger_key: o for o in self.outcomes if o.ledger_key and o.status != DUPLICATE}
        for o in self.outcomes:
            first = by_key.get(o.ledger_key) if o.status == DUPLICATE else o
            if first is None or first.status not in IMPORTED:
                return False
        return True


def submit(client: Any, vm: Voicemail, content: bytes, *, v1: bool, language: str) -> Any:
    """One multipart POST, never retried once it may have reached the server."""
    fields = {
        "wokuId": None if v1 else vm.woku_id,
        "qualification": str(vm.qualification),
        "clientEmail": vm.email,
        "clientPhone": vm.phone,
        "anonymous": "true" if vm.anonymous else "false",
        "language": language if v1 else None,
    }
    path = V1_PATH.format(woku_id=vm.woku_id) if v1 else CLASSIC_PATH
    files = {"file": (os.path.basename(vm.path), content, vm.mime)}
    return client.post(path, data={k: v for k, v in fields.items() if v}, files=files, idempotent=False)


# ------------------------------------------------------------------------------------------------ import
class VoicemailImporter:
    """Sends the rows one at a time in manifest order through the ledger; settles lost answers after."""

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
        record: Callable[[Outcome], None] = lambda _: None,
    ) -> None:
        """`record` gets each row's outcome as it is decided (the journal); a lost answer's once it is settled."""
        self.client, self.ledger, self._clock, self._record = client, ledger, clock, record
        self.v1, self.language = v1, language
        self.max_consecutive_lost = max_consecutive_lost
        self.rule = LostAnswerRule(client, self, settle=settle, skew=skew, clock=clock, sleep=sleep)
        self.entries: Dict[str, LedgerEntry] = {}
        self.posts = 0
        self._first_row: Dict[str, Voicemail] = {}
        self._resolved_now: Set[str] = set()

    def save(self, entry: LedgerEntry) -> None:
        """Write the entry through to the ledger (durable on return), stamped with our clock."""
        entry.updated_at = self._clock()
        self.ledger.save(entry)
        self.entries[entry.key] = entry

    def run(self, items: Sequence[Checked]) -> ImportReport:
        self.entries = self.ledger.load()
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

        sending = Sending(self.max_consecutive_lost)
        outcomes: List[Optional[Outcome]] = []
        lost: List[Tuple[int, Voicemail]] = []
        for index, item in enumerate(items):
            outcome = self.settled(item)
            if outcome is None and sending.halted:
                outcome = self._outcome(item, FAILED, sending.halted)
            elif outcome is None:
                assert isinstance(item, Voicemail)
                try:
                    outcome = self.post(item)
                except AuthError as exc:
                    outcome = self._outcome(item, FAILED, sending.revoked(exc), 401)
                else:
                    answered = outcome is not None and outcome.status in (ACCEPTED, REJECTED)
                    if sending.count(answered=answered, failed=outcome is None):
                        sending.stopped = f"{sending.failures} answers in a row were lost (the API looks unavailable)"
                if outcome is None:
                    lost.append((index, item))
            outcomes.append(outcome)
            if outcome is not None:
                self._record(outcome)
        # lost answers: found among the reviews, or not created and sent once more (unless sending halted)
        try:
            self.rule.resolve([self.entries[vm.key] for _, vm in lost])
            again = []
            for index, vm in lost:
                if self.entries[vm.key].status == NOT_CREATED and not sending.halted:
                    try:
                        outcomes[index] = self.post(vm)
                    except AuthError as exc:
                        sending.aborted = exc
                        outcomes[index] = self._outcome(vm, FAILED, one_line(str(exc)), 401)
                    again += [] if outcomes[index] else [vm]
            self.rule.resolve([self.entries[vm.key] for vm in again])
        except AuthError as exc:  # the reviews could not be read: rows still pending are settled by the next run
            sending.aborted = exc
        for index, vm in lost:
            outcomes[index] = outcomes[index] or self._settled_outcome(vm, self.entries[vm.key])
            self._record(outcomes[index])  # type: ignore[arg-type]
        report.stopped, report.aborted = sending.stopped, sending.aborted
        report.outcomes = [o for o in outcomes if o is not None]
        report.posts = self.posts
        return report

    def settled(self, item: Checked) -> Optional[Outcome]:
        """The row's outcome without a POST (invalid, duplicate, decided by the ledger), or None to send it."""
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
        self.save(entry)  # durable before the POST: a run that dies from here on leaves a trace
        self.posts += 1
        self.client.api.last_status = None
        try:
            answer = submit(self.client, vm, content, v1=self.v1, language=self.language)
        except AuthError:
            entry.status, entry.http_status, entry.ended_at = NOT_CREATED, 401, self._clock()
            entry.message = "the API rejected the key (401): not created"
            self.save(entry)
            raise
        except ApiError as exc:
            entry.ended_at = self._clock()
            entry.http_status = exc.status
            if exc.status is not None and 400 <= exc.status < 500:
                entry.status = REJECTED
                entry.message = one_line(exc.describe())
                self.save(entry)
                return self._outcome(vm, REJECTED, entry.message, exc.status, entry.attempts)
            # a 5xx, a reset, a timeout, a bad body: the server may have created it
            entry.message = (
                f"answer lost: {one_line(exc.describe())}; checked against the woku's reviews before any re-send"
            )
            self.save(entry)
            logger.warning("row %d: %s", vm.row, entry.message)
            return None
        entry.status, entry.ended_at, entry.http_status = ACCEPTED, self._clock(), self.client.api.last_status
        entry.answer = answer if isinstance(answer, dict) else {}
        entry.client_id, entry.file_url = answer_ids(entry.answer)
        entry.message = None if entry.answer else "the API answered 2xx without a body"
        self.save(entry)
        return self._outcome(vm, ACCEPTED, None, entry.http_status, entry.attempts)

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


# ----------------------------------------------------------------------------------------------- command
def run_voicemails(args: argparse.Namespace, make_client: Optional[Callable[[], WokuClient]] = None) -> int:
    """The `voicemails` command; `make_client` defaults to the pipeline's configuration. Exit 0 when every row
    is imported (now or earlier), 6 when not; 1 another import holds the ledger (PostgreSQL), 2 configuration
    or manifest, 3 API key rejected, 5 destination."""
    make_client = make_client or woku_client
    if not args.manifest:
        raise ConfigError("voicemails: --manifest FILE is required")
    if args.destination not in ("duckdb", "postgres"):
        raise ConfigError(
            f"voicemails: the ledger needs row-by-row durable writes: --destination duckdb or postgres,"
            f" not {args.destination!r}"
        )
    if args.v1 and args.language not in LANGUAGES:
        raise ConfigError(f"--language {args.language!r}: the v1 route takes {' or '.join(LANGUAGES)}")
    items = read_manifest(args.manifest, allow_outside=getattr(args, "allow_outside_files", False))
    if args.dry_run:
        return dry_run(read_ledger(results_pipeline(args, "voicemails"), args.destination), items, args)

    stamp = asdict(RunStamp(args.manifest, datetime.now(timezone.utc)))
    columns = {**columns_of(Outcome), **columns_of(RunStamp)}
    # the destination is checked, and earlier outcomes loaded, before the first request
    with outcome_session(args, "voicemails", RESULTS_TABLE, columns) as outcomes:
        client = make_client()
        try:
            with outcomes.pipeline.sql_client() as sql:
                ledger = SqlLedger(sql, args.destination)
                ledger.open()
                report = VoicemailImporter(
                    client,
                    ledger,
                    v1=args.v1,
                    language=args.language,
                    settle=float(client.api.timeout[1]),
                    record=lambda o: outcomes.record({**asdict(o), **stamp}),
                ).run(items)
        finally:
            client.close()
        return outcomes.finish(
            lambda tail: summary(report, tail),
            [(o.row_number, o.status, o.message) for o in report.outcomes if o.status not in (*IMPORTED, DUPLICATE)],
            aborted=report.aborted,
            complete=report.all_imported(),
            empty="empty manifest",
        )


def summary(report: ImportReport, tail: str) -> str:
    counts = report.counts()
    shown = ", ".join(f"{n:,} {status}" for status, n in sorted(counts.items(), key=lambda x: STATUS_ORDER.index(x[0])))
    head = f"voicemails: {len(report.outcomes):,} rows: {shown or 'none'} ({report.posts:,} POSTs)"
    notes = []
    if report.earlier:
        decided = ", ".join(f"{n} {status}" for status, n in sorted(report.earlier.items()))
        notes.append(f"unanswered sends of an earlier run: {decided}")
    return summary_line(head, notes, report.stopped, tail)


def dry_run(entries: Dict[str, LedgerEntry], items: Sequence[Checked], args: argparse.Namespace) -> int:
    """Print what each row would do, given the ledger's `entries`; send nothing, write nothing."""
    importer = VoicemailImporter(None, None)  # type: ignore[arg-type]  # only its `settled`, which sends nothing
    importer.entries = entries
    counts = Counter[str]()
    for item in items:
        outcome = importer.settled(item)
        # a row left pending (FAILED here) is checked against the reviews, then sent when not created
        if outcome is not None and outcome.status != FAILED:
            counts[outcome.status] += 1
            print(f"row {item.row}: {'skip' if outcome.status == SKIPPED else outcome.status}: {outcome.message}")
            continue
        assert isinstance(item, Voicemail)
        counts["send"] += 1
        note = " (after checking the woku's reviews for an unanswered earlier send)" if outcome else ""
        path = V1_PATH.format(woku_id=item.woku_id) if args.v1 else CLASSIC_PATH
        who = "anonymous" if item.anonymous else item.email
        print(
            f"row {item.row}: would POST {path}{note}: woku {item.woku_id}, qualification {item.qualification},"
            f" {who}, {item.file} ({item.size:,} bytes, {item.mime})"
        )
    print(
        f"voicemails (dry run) from {args.manifest}: {len(items):,} rows: {counts['send']:,} to send,"
        f" {counts[SKIPPED]:,} already imported, {counts[INVALID]:,} invalid; nothing sent, nothing written"
    )
    return EXIT_INCOMPLETE if counts[INVALID] else 0
