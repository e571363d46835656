"""`woku_pipeline.py voicemails --manifest FILE`: import audio reviews into Woku, each voicemail at most once:
one row at a time through the ledger, lost answers settled by the lost-answer rule before any re-send (one
found not created is sent once more in the same run). See docs/writeback.md."""

import argparse
import contextlib
import hashlib
import logging
import os
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Collection, Dict, List, Mapping, Optional, Sequence, Tuple

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
from pipelines.writeback.lost_answers import DEFAULT_SKEW_SECONDS, answer_ids, read_reviews, resolve
from pipelines.writeback.outcomes import Sending, columns_of, outcome_session, results_pipeline, summary_line
from pipelines.writeback.voicemail_rows import Checked, Invalid, Voicemail, read_manifest
from sources.http_kit import ApiError, AuthError, ConfigError, SourceError
from sources.http_kit.redact import one_line
from sources.woku import woku_client

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
#: the columns of `voicemail_results` that say which run and manifest a row comes from
STAMP_COLUMNS = {
    "manifest": {"data_type": "text", "nullable": False},
    "run_at": {"data_type": "timestamp", "nullable": False},
}
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
class ImportReport:
    outcomes: List[Outcome]
    posts: int = 0
    #: what the lost-answer rule decided for entries earlier runs left pending
    earlier: Dict[str, int] = field(default_factory=dict)
    stopped: Optional[str] = None
    #: the API rejected the key mid-run: the outcomes are complete, but the run must end in this error
    aborted: Optional[SourceError] = None

    def all_imported(self) -> bool:
        """Every row ended imported now or earlier (a duplicate counts as its first row)."""
        by_key = {o.ledger_key: o for o in self.outcomes if o.ledger_key and o.status != DUPLICATE}
        for o in self.outcomes:
            first = by_key.get(o.ledger_key) if o.status == DUPLICATE else o
            if first is None or first.status not in IMPORTED:
                return False
        return True


# ------------------------------------------------------------------------------------------------ import
def import_voicemails(
    client: Any,
    ledger: Ledger,
    items: Sequence[Checked],
    *,
    v1: bool = False,
    language: str = "es",
    settle: float = 60.0,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    max_consecutive_lost: int = MAX_CONSECUTIVE_LOST,
    record: Callable[[Outcome], None] = lambda _: None,
) -> ImportReport:
    """Send the rows one at a time in manifest order through the ledger, then settle the lost answers.
    `record` gets each row's outcome as it is decided (the journal); a lost answer's once it is settled."""
    entries = ledger.load()
    report = ImportReport(outcomes=[])

    def save(entry: LedgerEntry) -> None:
        """Write the entry through to the ledger (durable on return), stamped with our clock."""
        entry.updated_at = clock()
        ledger.save(entry)
        entries[entry.key] = entry

    def send(vm: Voicemail) -> Optional[Outcome]:
        """POST one row whose file is unchanged, its entry saved `pending` first: its Outcome, or None when the
        answer was lost (the entry stays pending). AuthError is raised, the entry saved `not_created`."""
        entry = entries.get(vm.key)
        try:
            with open(vm.path, "rb") as fh:
                content = fh.read()
        except OSError as exc:
            return outcome(vm, INVALID, f"file {vm.file!r} cannot be read: {exc.strerror or type(exc).__name__}", entry)
        if hashlib.sha256(content).hexdigest() != vm.sha256:
            return outcome(vm, INVALID, f"file {vm.file!r} changed since it was checked: not sent", entry)
        report.posts += 1
        entry = entry or LedgerEntry(vm.key, vm.woku_id, vm.sha256, vm.client, vm.anonymous, vm.qualification)
        entry.status, entry.attempts = PENDING, entry.attempts + 1
        entry.sent_at, entry.ended_at = clock(), None
        entry.http_status = entry.message = None
        entry.route = "v1" if v1 else "classic"
        entry.language = language if v1 else None
        entry.manifest_row, entry.manifest_file = vm.row, vm.file
        save(entry)  # durable before the POST: a run that dies from here on leaves a trace
        fields = {
            "wokuId": None if v1 else vm.woku_id,
            "qualification": str(vm.qualification),
            "clientEmail": vm.email,
            "clientPhone": vm.phone,
            "anonymous": "true" if vm.anonymous else "false",
            "language": entry.language,
        }
        path = V1_PATH.format(woku_id=vm.woku_id) if v1 else CLASSIC_PATH
        files = {"file": (os.path.basename(vm.path), content, vm.mime)}
        client.api.last_status = None
        try:  # one multipart POST, never retried once it may have reached the server
            answer = client.post(path, data={k: v for k, v in fields.items() if v}, files=files, idempotent=False)
        except AuthError:
            entry.status, entry.http_status, entry.ended_at = NOT_CREATED, 401, clock()
            entry.message = "the API rejected the key (401): not created"
            save(entry)
            raise
        except ApiError as exc:
            entry.ended_at, entry.http_status = clock(), exc.status
            if exc.status is not None and 400 <= exc.status < 500:
                entry.status, entry.message = REJECTED, one_line(exc.describe())
                save(entry)
                return outcome(vm, REJECTED, entry.message, entry, exc.status)
            # a 5xx, a reset, a timeout, a bad body: the server may have created it
            entry.message = (
                f"answer lost: {one_line(exc.describe())}; checked against the woku's reviews before any re-send"
            )
            save(entry)
            logger.warning("row %d: %s", vm.row, entry.message)
            return None
        entry.status, entry.ended_at, entry.http_status = ACCEPTED, clock(), client.api.last_status
        entry.answer = answer if isinstance(answer, dict) else {}
        entry.client_id, entry.file_url = answer_ids(entry.answer)
        entry.message = None if entry.answer else "the API answered 2xx without a body"
        save(entry)
        return outcome(vm, ACCEPTED, None, entry, entry.http_status)

    def check(lost: Sequence[LedgerEntry]) -> None:
        """The lost-answer rule over the pending entries once they have settled, each decision saved; an
        entry whose reviews cannot be read stays pending. AuthError is raised."""
        pending = [e for e in lost if e.status == PENDING]
        if not pending:
            return
        wait = max(e.settled_at(settle) for e in pending) - clock()
        if wait > 0:
            logger.warning("waiting %.1fs for %d unanswered POST(s) to settle before checking", wait, len(pending))
            sleep(wait)
        resolve(pending, read_reviews(client, pending, DEFAULT_SKEW_SECONDS), entries.values(), settle=settle)
        for e in pending:
            save(e)

    earlier = [e for e in entries.values() if e.status == PENDING]
    if earlier:
        logger.warning(
            "%d voicemail(s) from an interrupted run: checking their wokus' reviews before any re-send", len(earlier)
        )
        check(earlier)
        report.earlier = dict(Counter(e.status for e in earlier))
    resolved_now = {e.key for e in earlier}
    first = first_rows(items)

    sending = Sending(max_consecutive_lost)
    outcomes: List[Optional[Outcome]] = []
    lost: List[Tuple[int, Voicemail]] = []
    for index, item in enumerate(items):
        result = settled(item, entries, first, resolved_now)
        if result is None and sending.halted:
            result = outcome(item, FAILED, sending.halted, entries.get(item.key))
        elif result is None:
            assert isinstance(item, Voicemail)
            try:
                result = send(item)
            except AuthError as exc:
                result = outcome(item, FAILED, sending.revoked(exc), entries.get(item.key), 401)
            else:
                answered = result is not None and result.status in (ACCEPTED, REJECTED)
                if sending.count(answered=answered, failed=result is None):
                    sending.stopped = f"{sending.failures} answers in a row were lost (the API looks unavailable)"
            if result is None:
                lost.append((index, item))
        outcomes.append(result)
        if result is not None:
            record(result)
    # lost answers: found among the reviews, or not created and sent once more (unless sending halted)
    try:
        check([entries[vm.key] for _, vm in lost])
        again = []
        for index, vm in lost:
            if entries[vm.key].status == NOT_CREATED and not sending.halted:
                try:
                    outcomes[index] = send(vm)
                except AuthError as exc:
                    sending.aborted = exc
                    outcomes[index] = outcome(vm, FAILED, one_line(str(exc)), entries.get(vm.key), 401)
                again += [] if outcomes[index] else [vm]
        check([entries[vm.key] for vm in again])
    except AuthError as exc:  # the reviews could not be read: rows still pending are settled by the next run
        sending.aborted = exc
    for index, vm in lost:
        outcomes[index] = outcomes[index] or lost_outcome(vm, entries[vm.key])
        record(outcomes[index])  # type: ignore[arg-type]
    report.stopped, report.aborted = sending.stopped, sending.aborted
    report.outcomes = [o for o in outcomes if o is not None]
    return report


def first_rows(items: Sequence[Checked]) -> Dict[str, int]:
    """The first manifest row of each ledger key: a later row with the same key is a duplicate."""
    return {item.key: item.row for item in reversed(items) if isinstance(item, Voicemail)}


def settled(
    item: Checked, entries: Mapping[str, LedgerEntry], first: Mapping[str, int], resolved_now: Collection[str] = ()
) -> Optional[Outcome]:
    """The row's outcome without a POST (invalid, duplicate, decided by the ledger), or None to send it;
    `resolved_now` are the keys an interrupted run left pending, settled by this run."""
    if isinstance(item, Invalid):
        return Outcome(item.row, item.file, item.woku_id, None, INVALID, None, item.reason)
    entry = entries.get(item.key)
    if first[item.key] != item.row:
        return outcome(item, DUPLICATE, f"same woku, file and client as row {first[item.key]}: not sent", entry)
    if entry is not None and entry.status in SUBMITTED and item.key in resolved_now:
        # an interrupted run's send, found among the reviews just now
        return outcome(item, entry.status, entry.message, entry, entry.http_status)
    if entry is not None and entry.status in SUBMITTED:
        return outcome(item, SKIPPED, f"already {entry.status} in an earlier run", entry)
    if entry is not None and entry.status in (AMBIGUOUS, PENDING):
        status = AMBIGUOUS if entry.status == AMBIGUOUS else FAILED
        return outcome(item, status, f"not sent: {entry.message or 'unresolved earlier send'}", entry)
    return None


def lost_outcome(vm: Voicemail, entry: LedgerEntry) -> Outcome:
    """The outcome of a row whose answer was lost, once the lost-answer rule has run."""
    if entry.status == NOT_CREATED:
        why = "answer lost again; checked: not created" if entry.attempts > 1 else entry.message
        return outcome(vm, FAILED, f"{why}; will be sent by the next run", entry, entry.http_status)
    status = entry.status if entry.status in (*SUBMITTED, AMBIGUOUS) else FAILED
    return outcome(vm, status, entry.message, entry, entry.http_status)


def outcome(
    vm: Voicemail, status: str, message: Optional[str], entry: Optional[LedgerEntry], http_status: Optional[int] = None
) -> Outcome:
    attempts = entry.attempts if entry else 0
    return Outcome(vm.row, vm.file, vm.woku_id, vm.key, status, http_status, message, attempts)


# ----------------------------------------------------------------------------------------------- command
def run_voicemails(args: argparse.Namespace) -> int:
    """The `voicemails` command. Exit 0 when every row is imported (now or earlier), 6 when not; 1 another
    import holds the ledger (PostgreSQL), 2 configuration or manifest, 3 API key rejected, 5 destination."""
    if not args.manifest:
        raise ConfigError("voicemails: --manifest FILE is required")
    if args.destination not in ("duckdb", "postgres"):
        raise ConfigError(
            f"voicemails: the ledger needs row-by-row durable writes: --destination duckdb or postgres,"
            f" not {args.destination!r}"
        )
    if args.v1 and args.language not in LANGUAGES:
        raise ConfigError(f"--language {args.language!r}: the v1 route takes {' or '.join(LANGUAGES)}")
    items = read_manifest(args.manifest, allow_outside=args.allow_outside_files)
    if args.dry_run:
        return dry_run(read_ledger(results_pipeline(args, "voicemails"), args.destination), items, args)

    stamp = {"manifest": args.manifest, "run_at": datetime.now(timezone.utc)}
    columns = {**columns_of(Outcome), **STAMP_COLUMNS}
    # the destination is checked, and earlier outcomes loaded, before the first request
    with outcome_session(args, "voicemails", RESULTS_TABLE, columns) as outcomes:
        with contextlib.closing(woku_client()) as client, outcomes.pipeline.sql_client() as sql:
            ledger = SqlLedger(sql, args.destination)
            ledger.open()
            report = import_voicemails(
                client,
                ledger,
                items,
                v1=args.v1,
                language=args.language,
                settle=float(client.api.timeout[1]),
                record=lambda o: outcomes.record({**asdict(o), **stamp}),
            )
        return outcomes.finish(
            lambda tail: summary(report, tail),
            [(o.row_number, o.status, o.message) for o in report.outcomes if o.status not in (*IMPORTED, DUPLICATE)],
            aborted=report.aborted,
            complete=report.all_imported(),
            empty="empty manifest",
        )


def summary(report: ImportReport, tail: str) -> str:
    counts = Counter(o.status for o in report.outcomes)
    shown = ", ".join(f"{n:,} {status}" for status, n in sorted(counts.items(), key=lambda x: STATUS_ORDER.index(x[0])))
    head = f"voicemails: {len(report.outcomes):,} rows: {shown or 'none'} ({report.posts:,} POSTs)"
    notes = []
    if report.earlier:
        decided = ", ".join(f"{n} {status}" for status, n in sorted(report.earlier.items()))
        notes.append(f"unanswered sends of an earlier run: {decided}")
    return summary_line(head, notes, report.stopped, tail)


def dry_run(entries: Dict[str, LedgerEntry], items: Sequence[Checked], args: argparse.Namespace) -> int:
    """Print what each row would do, given the ledger's `entries`; send nothing, write nothing."""
    first = first_rows(items)
    counts = Counter[str]()
    for item in items:
        result = settled(item, entries, first)
        # a row left pending (FAILED here) is checked against the reviews, then sent when not created
        if result is not None and result.status != FAILED:
            counts[result.status] += 1
            print(f"row {item.row}: {'skip' if result.status == SKIPPED else result.status}: {result.message}")
            continue
        assert isinstance(item, Voicemail)
        counts["send"] += 1
        note = " (after checking the woku's reviews for an unanswered earlier send)" if result else ""
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
