"""`woku_pipeline.py trackers`: write external tracker values onto Woku's records, one upsert per row in
input order (so a repeated (entity, name) ends with its last value), each row's outcome kept. See
docs/writeback.md."""

import argparse
import contextlib
import hashlib
import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import dlt

from pipelines.runner.cli import EXIT_INCOMPLETE
from pipelines.writeback.outcomes import Sending, columns_of, outcome_session, results_pipeline, summary_line
from pipelines.writeback.reader import InputRow, read_csv, read_table
from pipelines.writeback.tracker_rows import (
    ASSIGNED,
    COLUMNS,
    FAILED,
    REJECTED,
    Checked,
    Clock,
    RowResult,
    TrackerRow,
    utc_now,
    validate_row,
)
from sources.http_kit import ApiError, ApiUnavailableError, AuthError, ConfigError, SourceError
from sources.http_kit.redact import one_line
from sources.woku import woku_client
from sources.woku.helpers.client import WokuClient

DEFINITIONS_PATH = "/v1/external-trackers"
IDEMPOTENCY_HEADER = "X-Woku-Idempotency-Key"
#: a definition needs a `system` (the external system it maps to); ours says who created it
CREATED_SYSTEM = "feedback-connectors"
CREATED_DESCRIPTION = "Created by the feedback-connectors tracker write-back (--create-missing)"
#: after this many rows in a row that got no answer, the API is down: the rest are not sent
MAX_CONSECUTIVE_FAILURES = 10
RESULTS_TABLE = "tracker_writeback_results"


def run_trackers(args: argparse.Namespace) -> int:
    """The `trackers` command (module docstring)."""
    if bool(args.file) == bool(args.from_table):
        raise ConfigError("trackers: give exactly one of --file F or --from-table SCHEMA.TABLE")
    if args.file:
        raw, source = read_values(args.file), args.file
    else:
        reading = results_pipeline(args, "trackers")
        raw, source = read_table(reading, args.destination, args.from_table, COLUMNS), args.from_table
    rows = [validate_row(n, fields, problems) for n, fields, problems in raw]
    if args.dry_run:
        return dry_run(rows, args.create_missing, source)

    # the destination is checked, and earlier outcomes loaded, before the first request
    with outcome_session(args, "trackers", RESULTS_TABLE, columns_of(RowResult)) as outcomes:
        with contextlib.closing(woku_client()) as client:
            report = write_trackers(
                client, rows, create_missing=args.create_missing, record=lambda r: outcomes.record(asdict(r))
            )
        counts = report.counts()
        return outcomes.finish(
            lambda tail: summary(report, tail),
            [(r.row_number, r.status, r.message) for r in report.results if r.status != ASSIGNED],
            aborted=report.aborted,
            complete=not (counts[REJECTED] or counts[FAILED]),
            empty="nothing to send",
        )


def read_values(path: str) -> List[InputRow]:
    """The rows of `--file`; a row of empty fields (`,,,`) is a row, rejected and recorded."""
    return read_csv(path, COLUMNS, f"--file {path}", count_hint=" (quote values that contain commas)")


# ---------------------------------------------------------------------------------------- definitions
def idempotency_key(name: str) -> str:
    """The same name always gives the same key: a retried or re-run create replays, never duplicates."""
    return "feedback-connectors-tracker-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:40]


def plan_definitions(
    rows: Sequence[Checked], definitions: Mapping[str, Mapping[str, Any]]
) -> Tuple[List[str], List[str]]:
    """The names the valid rows use (each once, in order of first use) that the catalog lacks, and has inactive."""
    names = list(dict.fromkeys(r.name for r in rows if isinstance(r, TrackerRow)))
    absent = [n for n in names if n not in definitions]
    return absent, [n for n in names if n in definitions and definitions[n].get("active") is False]


def definitions(client: WokuClient) -> Dict[str, Dict[str, Any]]:
    """The company's tracker definitions by name, inactive ones included."""
    found: Dict[str, Dict[str, Any]] = {}
    for page in client.pages(DEFINITIONS_PATH, {"includeInactive": "true"}):
        for record in page:
            if isinstance(record, dict) and isinstance(record.get("name"), str):
                found[record["name"]] = record
    return found


def create_definitions(
    client: WokuClient, names: Sequence[str], clock: Clock = utc_now
) -> Tuple[List[str], Dict[str, RowResult]]:
    """Create each name; returns the names created and, per name that could not be, a template outcome.
    A 409 is success: the name exists (created since we listed, or by an earlier attempt)."""
    created: List[str] = []
    problems: Dict[str, RowResult] = {}
    for name in names:
        try:
            client.post(
                DEFINITIONS_PATH,
                json={"name": name, "system": CREATED_SYSTEM, "description": CREATED_DESCRIPTION},
                headers={IDEMPOTENCY_HEADER: idempotency_key(name)},
                idempotent=True,  # the idempotency key makes a repeated create replay the first answer
            )
            created.append(name)
        except ApiError as exc:
            if exc.status != 409:
                reason = f"tracker definition {name!r} could not be created: {one_line(exc.describe())}"
                problems[name] = RowResult(0, None, None, name, _failed(exc), exc.status, reason, clock())
    return created, problems


# --------------------------------------------------------------------------------------------- sending
@dataclass
class WriteBackReport:
    """Every row's outcome in input order, plus what the run cost."""

    results: List[RowResult]
    created: List[str] = field(default_factory=list)
    requests: int = 0
    retries: int = 0
    #: why sending stopped before the end (the rows not sent are `failed`), if it did
    stopped: Optional[str] = None
    #: the API rejected the key mid-run: the results are complete, but the run must end in this error
    aborted: Optional[SourceError] = None

    def counts(self) -> Dict[str, int]:
        return Counter(r.status for r in self.results)


def write_trackers(
    client: WokuClient,
    rows: Sequence[Checked],
    *,
    create_missing: bool = False,
    record: Callable[[RowResult], None] = lambda _: None,
    clock: Clock = utc_now,
    max_consecutive_failures: int = MAX_CONSECUTIVE_FAILURES,
) -> WriteBackReport:
    """Send every valid row in input order, one upsert each; invalid rows pass through as they are. `record`
    gets each row's outcome as it is decided (the journal), before the next row is sent."""
    sent_before, retries_before = client.api.requests_sent, client.api.retries
    report = WriteBackReport(results=[])
    blocked: Dict[str, RowResult] = {}
    if create_missing and any(isinstance(r, TrackerRow) for r in rows):
        report.created, blocked = create_definitions(client, plan_definitions(rows, definitions(client))[0], clock)
    last = max((i for i, r in enumerate(rows) if isinstance(r, TrackerRow)), default=-1)
    sending = Sending(max_consecutive_failures)
    for index, row in enumerate(rows):
        if isinstance(row, RowResult):
            result = row
        elif sending.halted:
            result = row.result(FAILED, None, sending.halted, clock())
        elif row.name in blocked:  # its definition could not be created: no request
            why = blocked[row.name]
            result = row.result(why.status, why.http_status, why.message, clock())
        else:
            try:
                result = assign(client, row, clock)
            except AuthError as exc:
                result = row.result(FAILED, 401, sending.revoked(exc), clock())
            else:
                failed = result.status == FAILED
                # a row that got no answer is recorded all the same: a key refused after it keeps it.
                # Failures on the last row to send stop nothing: nothing is left to spare
                if sending.count(answered=True, failed=failed, can_stop=index < last):
                    sending.stopped = f"the API failed {sending.failures} rows in a row (last: {result.message})"
        report.results.append(result)
        record(result)
    report.stopped, report.aborted = sending.stopped, sending.aborted
    report.requests, report.retries = client.api.requests_sent - sent_before, client.api.retries - retries_before
    return report


def assign(client: WokuClient, row: TrackerRow, clock: Clock = utc_now) -> RowResult:
    """One upsert, its message `created` for a new value, `updated` when it overwrote one; AuthError
    propagates (every later row would fail the same way)."""
    client.api.last_status = None
    try:
        body = client.post(row.path, json=row.body, idempotent=True)
    except ApiError as exc:
        return row.result(_failed(exc), exc.status, one_line(exc.describe()), clock())
    message = "assigned"
    if isinstance(body, dict) and body.get("createdAt") and body.get("updatedAt"):
        message = "created" if body["createdAt"] == body["updatedAt"] else "updated"
    return row.result(ASSIGNED, client.api.last_status, message, clock())


def _failed(exc: ApiError) -> str:
    """`failed` without a usable answer (after the retries), worth sending again later; `rejected` on a 4xx."""
    unanswered = isinstance(exc, ApiUnavailableError) or exc.status is None or exc.status >= 500
    return FAILED if unanswered else REJECTED


# -------------------------------------------------------------------------------------------- printing
def summary(report: WriteBackReport, tail: str) -> str:
    counts = report.counts()
    head = (
        f"trackers: {len(report.results):,} rows: {counts[ASSIGNED]:,} assigned, {counts[REJECTED]:,} rejected,"
        f" {counts[FAILED]:,} failed ({report.requests:,} requests, {report.retries:,} retries)"
    )
    notes = [f"created {len(report.created)} definition(s): {', '.join(report.created)}"] if report.created else []
    return summary_line(head, notes, report.stopped, tail)


def dry_run(rows: Sequence[Checked], create_missing: bool, source: str) -> int:
    """Print what would be sent, what is wrong and what the catalog says of the names (GET only, skipped
    without an API key); send and write nothing."""
    valid = [r for r in rows if isinstance(r, TrackerRow)]
    for row in rows:
        if isinstance(row, TrackerRow):
            print(f"row {row.row_number}: POST {row.path} {json.dumps(row.body, ensure_ascii=False)}")
        else:
            print(f"row {row.row_number}: invalid: {row.message}")
    if valid and not dlt.secrets.get("sources.woku.credentials.api_key"):
        print("definitions not checked: no API key configured")
    elif valid:
        with contextlib.closing(woku_client()) as client:
            absent, inactive = plan_definitions(rows, definitions(client))
        verb = "would create" if create_missing else "absent (rows rejected unless --create-missing)"
        if absent:
            print(f"definitions {verb}: {', '.join(absent)}")
        if inactive:
            print(f"definitions inactive (their rows would be rejected): {', '.join(inactive)}")
    invalid = len(rows) - len(valid)
    print(
        f"trackers (dry run) from {source}: {len(rows):,} rows: {len(valid):,} valid, {invalid:,} invalid;"
        " nothing sent, nothing written"
    )
    return EXIT_INCOMPLETE if invalid else 0
