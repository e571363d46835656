"""`woku_pipeline.py voicemails --manifest FILE`: import audio reviews into Woku, each voicemail exactly once.

The rules (row checks, ledger key, the lost-answer rule) are in `sources/woku/voicemails.py`; this module keeps
the ledger in the destination and lands the outcomes.

The ledger is the table `<dataset>.voicemail_ledger` (DuckDB or PostgreSQL), one row per key, owned by this
command rather than by a dlt schema (so no `--full-refresh` of a sync can drop it). It is read at start through
the pipeline's sql_client (absent = empty), and written through that same connection one row at a time: an
autocommitted `INSERT ... ON CONFLICT (ledger_key) DO UPDATE`, a few milliseconds each. A dlt load per row
would take a second or more, and a dlt load of a batch of `pending` rows would give them one send time, which
is what the lost-answer rule matches reviews on.

Why it holds when the process is SIGKILLed at any moment: a committed row outlives the process (DuckDB's
write-ahead log, PostgreSQL's commit), and each send is pending-commit -> POST -> outcome-commit.
- Killed before the pending commit: nothing was sent, and the next run sends the row.
- Killed after it (during the POST, or before the outcome commit): the next run finds the row `pending`,
  waits for it to settle and looks for it among the woku's reviews before any re-send.
- Killed after the outcome commit, before the tables below are loaded: the answer is in the ledger, and
  the next run loads every submitted entry that `voicemails` lacks.
One import at a time per ledger: DuckDB locks its file while the connection is open, and on PostgreSQL
the run takes a session advisory lock (released when the connection ends, also when the process dies).

Tables, loaded once per run after the sends, by the pipeline `<pipeline-name>_voicemails` (schema
`woku_voicemails`) into the same dataset:
- `voicemails`, merged on `ledger_key`: the API's answer per submitted voicemail (for a recovered one, the
  review found for it): transcription, feedback_type, file_url/filename/type, client_id, qualification,
  woku_id, anonymous, with the ledger key, its parts, the manifest row and file, and the ledger status.
- `voicemail_results`, appended: one row per manifest row per run (`run_at`): status accepted, recovered,
  uncertain, skipped (imported by an earlier run), duplicate, invalid, rejected, failed or ambiguous, with
  the HTTP status and the reason. A run killed before its load leaves no results rows; the ledger has
  its outcomes, and the next run's results show them.

`--dry-run` checks the manifest, reads the ledger if it exists, and prints what each row would do; it sends
nothing and writes nothing (it needs no API key).

Exit status: 0 when every row is imported (accepted, recovered or uncertain, in this run or an earlier one; a
duplicate row counts as its first row); 6 when any row is not (invalid, rejected, failed, ambiguous; in a dry
run, invalid). Errors that stop the run use run_cli's codes: 1 another import holds the ledger (PostgreSQL),
2 configuration or manifest, 3 API key rejected, 5 destination (e.g. the DuckDB file is locked by another run).
"""

import argparse
import json
import os
import sys
from datetime import datetime, timezone
from typing import Any, Dict, Optional, Sequence, Set

import dlt
from dlt.destinations.exceptions import DatabaseUndefinedRelation

from pipelines.runner.sync import make_pipeline
from pipelines.warehouse.destinations import LOADER_FILE_FORMAT
from sources.http_kit import ConfigError, SourceError
from sources.woku import woku_client as make_client
from sources.woku.voicemails import (
    AMBIGUOUS,
    CLASSIC_PATH,
    DUPLICATE,
    IMPORTED,
    LANGUAGES,
    PENDING,
    SUBMITTED,
    V1_PATH,
    Checked,
    ImportReport,
    Invalid,
    LedgerEntry,
    Outcome,
    VoicemailImporter,
    read_manifest,
)

EXIT_NOT_ALL_IMPORTED = 6
LEDGER_TABLE = "voicemail_ledger"
VOICEMAILS_TABLE = "voicemails"
RESULTS_TABLE = "voicemail_results"
RESULTS_SCHEMA = "woku_voicemails"
SHOWN_PROBLEMS = 10
_SQL_DESTINATIONS = ("duckdb", "postgres")

#: the ledger's columns, in SQL both DuckDB and PostgreSQL accept
LEDGER_COLUMNS = (
    ("ledger_key", "TEXT NOT NULL PRIMARY KEY"),
    ("woku_id", "TEXT NOT NULL"),
    ("sha256", "TEXT NOT NULL"),
    ("client", "TEXT NOT NULL"),
    ("anonymous", "BOOLEAN NOT NULL"),
    ("qualification", "BIGINT NOT NULL"),
    ("status", "TEXT NOT NULL"),
    ("attempts", "BIGINT NOT NULL"),
    ("sent_at", "TIMESTAMP WITH TIME ZONE"),
    ("ended_at", "TIMESTAMP WITH TIME ZONE"),
    ("route", "TEXT"),
    ("language", "TEXT"),
    ("http_status", "BIGINT"),
    ("message", "TEXT"),
    ("client_id", "TEXT"),
    ("file_url", "TEXT"),
    ("review_id", "TEXT"),
    ("answer", "TEXT"),
    ("manifest_row", "BIGINT"),
    ("manifest_file", "TEXT"),
    ("updated_at", "TIMESTAMP WITH TIME ZONE NOT NULL"),
)


def _column(data_type: str, nullable: bool = True, **hints: Any) -> Dict[str, Any]:
    """A fresh hint per column: dlt writes the column's name into the dict it is given."""
    return {"data_type": data_type, "nullable": nullable, **hints}


#: explicit types, so a column that is NULL in every row of a load still exists with its type
VOICEMAIL_COLUMNS: Dict[str, Dict[str, Any]] = {
    "ledger_key": _column("text", False),
    "status": _column("text"),
    "route": _column("text"),
    "woku_id": _column("text"),
    "sha256": _column("text"),
    "client": _column("text"),
    "manifest_row": _column("bigint"),
    "manifest_file": _column("text"),
    "qualification": _column("bigint"),
    "qualification_id": _column("text"),
    "anonymous": _column("bool"),
    "transcription": _column("text"),
    "feedback_type": _column("text"),
    "file_filename": _column("text"),
    "file_type": _column("text"),
    "file_url": _column("text"),
    "client_id": _column("text"),
    "review_id": _column("text"),
    "attempts": _column("bigint"),
    "submitted_at": _column("timestamp", timezone=True),
}
RESULT_COLUMNS: Dict[str, Dict[str, Any]] = {
    "run_at": _column("timestamp", False, timezone=True),
    "manifest": _column("text"),
    "row_number": _column("bigint", False),
    "file": _column("text"),
    "woku_id": _column("text"),
    "ledger_key": _column("text"),
    "status": _column("text", False),
    "http_status": _column("bigint"),
    "message": _column("text"),
    "attempts": _column("bigint"),
}


def run_voicemails(args: argparse.Namespace) -> int:
    if not args.manifest:
        raise ConfigError("voicemails: --manifest FILE is required")
    if args.destination not in _SQL_DESTINATIONS:
        raise ConfigError(
            f"voicemails: the ledger needs row-by-row durable writes: --destination duckdb or postgres,"
            f" not {args.destination!r}"
        )
    if args.v1 and args.language not in LANGUAGES:
        raise ConfigError(f"--language {args.language!r}: the v1 route takes {' or '.join(LANGUAGES)}")
    items = read_manifest(args.manifest)
    pipeline = voicemails_pipeline(args)
    if args.dry_run:
        return dry_run(pipeline, items, args)

    client = make_client()
    try:
        with pipeline.sql_client() as sql:
            ledger = SqlLedger(sql, args.destination)
            ledger.open()
            importer = VoicemailImporter(
                client,
                ledger,
                v1=args.v1,
                language=args.language,
                settle=float(client.api.timeout[1]),
            )
            report = importer.run(items)
            landed = ledger.landed_keys()
    finally:
        client.close()

    run_at = datetime.now(timezone.utc)
    answers = [voicemail_record(e) for e in importer.entries.values() if e.status in SUBMITTED and e.key not in landed]
    results = [result_record(o, args.manifest, run_at) for o in report.outcomes]
    where = f"{args.dataset_name}.{RESULTS_TABLE}"
    if results or answers:
        try:
            load_tables(pipeline, answers, results, args.destination)
        except Exception:
            print(summary(report, "results NOT loaded (the ledger has every outcome)"), file=sys.stderr)
            raise
    print(summary(report, f"results in {where}" if results else "empty manifest"))
    show_problems(report.outcomes)
    if report.aborted is not None:
        raise report.aborted
    return 0 if report.all_imported() else EXIT_NOT_ALL_IMPORTED


def voicemails_pipeline(args: argparse.Namespace) -> Any:
    """The user's destination and dataset, under a pipeline of its own (its loads never mix with a sync's)."""
    return make_pipeline(argparse.Namespace(**{**vars(args), "pipeline_name": f"{args.pipeline_name}_voicemails"}))


# ---------------------------------------------------------------------------------------------- ledger
class SqlLedger:
    """The ledger as a table in the destination, one autocommitted upsert per save (see the module docstring)."""

    def __init__(self, sql: Any, destination: str) -> None:
        self.sql = sql
        self.destination = destination
        self.table = sql.make_qualified_table_name(LEDGER_TABLE)

    def open(self) -> None:
        """Create the dataset and table when absent; on PostgreSQL, take the ledger's lock."""
        if not self.sql.has_dataset():
            self.sql.create_dataset()
        columns = ", ".join(f"{name} {kind}" for name, kind in LEDGER_COLUMNS)
        self.sql.execute_sql(f"CREATE TABLE IF NOT EXISTS {self.table} ({columns})")
        if self.destination == "postgres":
            rows = self.sql.execute_sql("SELECT pg_try_advisory_lock(hashtext(%s))", self.table)
            if not rows or not rows[0][0]:
                raise SourceError(f"another voicemail import is using {self.table}; run again when it has finished")

    def load(self) -> Dict[str, LedgerEntry]:
        names = ", ".join(name for name, _ in LEDGER_COLUMNS)
        try:
            rows = self.sql.execute_sql(f"SELECT {names} FROM {self.table}") or []
        except DatabaseUndefinedRelation:
            return {}
        entries = {}
        for row in rows:
            entry = _entry(dict(zip((n for n, _ in LEDGER_COLUMNS), row, strict=True)))
            entries[entry.key] = entry
        return entries

    def save(self, entry: LedgerEntry) -> None:
        values = _row(entry)
        names = [n for n, _ in LEDGER_COLUMNS]
        updates = ", ".join(f"{n} = excluded.{n}" for n in names[1:])
        self.sql.execute_sql(
            f"INSERT INTO {self.table} ({', '.join(names)}) VALUES ({', '.join(['%s'] * len(names))})"
            f" ON CONFLICT (ledger_key) DO UPDATE SET {updates}",
            *[values[n] for n in names],
        )

    def landed_keys(self) -> Set[str]:
        """Keys already in `voicemails` (absent table: none)."""
        try:
            rows = self.sql.execute_sql(
                f"SELECT ledger_key FROM {self.sql.make_qualified_table_name(VOICEMAILS_TABLE)}"
            )
        except DatabaseUndefinedRelation:
            return set()
        return {r[0] for r in rows or []}


def _row(e: LedgerEntry) -> Dict[str, Any]:
    return {
        "ledger_key": e.key,
        "woku_id": e.woku_id,
        "sha256": e.sha256,
        "client": e.client,
        "anonymous": e.anonymous,
        "qualification": e.qualification,
        "status": e.status,
        "attempts": e.attempts,
        "sent_at": _instant(e.sent_at),
        "ended_at": _instant(e.ended_at),
        "route": e.route,
        "language": e.language,
        "http_status": e.http_status,
        "message": e.message,
        "client_id": e.client_id,
        "file_url": e.file_url,
        "review_id": e.review_id,
        "answer": json.dumps(e.answer, ensure_ascii=False, default=str) if e.answer is not None else None,
        "manifest_row": e.manifest_row,
        "manifest_file": e.manifest_file,
        "updated_at": _instant(e.updated_at) or datetime.now(timezone.utc),
    }


def _entry(row: Dict[str, Any]) -> LedgerEntry:
    return LedgerEntry(
        key=row["ledger_key"],
        woku_id=row["woku_id"],
        sha256=row["sha256"],
        client=row["client"],
        anonymous=bool(row["anonymous"]),
        qualification=int(row["qualification"]),
        status=row["status"],
        attempts=int(row["attempts"] or 0),
        sent_at=_epoch(row["sent_at"]),
        ended_at=_epoch(row["ended_at"]),
        route=row["route"],
        language=row["language"],
        http_status=int(row["http_status"]) if row["http_status"] is not None else None,
        message=row["message"],
        client_id=row["client_id"],
        file_url=row["file_url"],
        review_id=row["review_id"],
        answer=json.loads(row["answer"]) if row["answer"] else None,
        manifest_row=int(row["manifest_row"]) if row["manifest_row"] is not None else None,
        manifest_file=row["manifest_file"],
        updated_at=_epoch(row["updated_at"]),
    )


def _instant(epoch: Optional[float]) -> Optional[datetime]:
    return datetime.fromtimestamp(epoch, timezone.utc) if epoch is not None else None


def _epoch(value: Any) -> Optional[float]:
    if value is None:
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()
    return float(value)


# ---------------------------------------------------------------------------------------------- output
def voicemail_record(e: LedgerEntry) -> Dict[str, Any]:
    """A row of `voicemails`: the API's answer (or the review recovered for it) and where it came from."""
    answer = e.answer or {}
    q = answer.get("qualification")
    qualification = q.get("qualification") if isinstance(q, dict) else q
    file = answer.get("file") if isinstance(answer.get("file"), dict) else {}
    return {
        "ledger_key": e.key,
        "status": e.status,
        "route": e.route,
        "woku_id": answer.get("wokuId") or e.woku_id,
        "sha256": e.sha256,
        "client": e.client,
        "manifest_row": e.manifest_row,
        "manifest_file": e.manifest_file,
        "qualification": qualification if qualification is not None else e.qualification,
        "qualification_id": q.get("_id") if isinstance(q, dict) else None,
        "anonymous": answer.get("anonymous", e.anonymous),
        "transcription": answer.get("transcription"),
        "feedback_type": answer.get("feedbackType"),
        "file_filename": file.get("filename"),
        "file_type": file.get("type"),
        "file_url": file.get("url"),
        "client_id": answer.get("clientId"),
        "review_id": e.review_id,
        "attempts": e.attempts,
        "submitted_at": _instant(e.ended_at or e.sent_at),
    }


def result_record(o: Outcome, manifest: str, run_at: datetime) -> Dict[str, Any]:
    return {
        "run_at": run_at,
        "manifest": manifest,
        "row_number": o.row,
        "file": o.file,
        "woku_id": o.woku_id,
        "ledger_key": o.key,
        "status": o.status,
        "http_status": o.http_status,
        "message": o.message,
        "attempts": o.attempts,
    }


def load_tables(
    pipeline: Any, answers: Sequence[Dict[str, Any]], results: Sequence[Dict[str, Any]], destination: str
) -> None:
    resources = []
    if answers:
        resources.append(
            dlt.resource(
                list(answers),
                name=VOICEMAILS_TABLE,
                write_disposition="merge",
                primary_key="ledger_key",
                columns=VOICEMAIL_COLUMNS,
            )
        )
    if results:
        resources.append(
            dlt.resource(list(results), name=RESULTS_TABLE, write_disposition="append", columns=RESULT_COLUMNS)
        )
    pipeline.run(resources, schema=dlt.Schema(RESULTS_SCHEMA), loader_file_format=LOADER_FILE_FORMAT.get(destination))


def summary(report: ImportReport, tail: str) -> str:
    counts = report.counts()
    shown = ", ".join(f"{n:,} {status}" for status, n in sorted(counts.items(), key=lambda x: _ORDER.index(x[0])))
    parts = [f"voicemails: {len(report.outcomes):,} rows: {shown or 'none'} ({report.posts:,} POSTs)"]
    if report.earlier:
        decided = ", ".join(f"{n} {status}" for status, n in sorted(report.earlier.items()))
        parts.append(f"unanswered sends of an earlier run: {decided}")
    if report.stopped:
        parts.append(f"stopped sending: {report.stopped}")
    parts.append(tail)
    return "; ".join(parts)


_ORDER = ["accepted", "recovered", "uncertain", "skipped", "duplicate", "invalid", "rejected", "failed", "ambiguous"]


def show_problems(outcomes: Sequence[Outcome]) -> None:
    """The first rows that were not imported, on stderr; the results table holds them all."""
    problems = [o for o in outcomes if o.status not in (*IMPORTED, DUPLICATE)]
    for o in problems[:SHOWN_PROBLEMS]:
        print(f"row {o.row}: {o.status}: {o.message}", file=sys.stderr)
    if len(problems) > SHOWN_PROBLEMS:
        print(f"... and {len(problems) - SHOWN_PROBLEMS:,} more, see {RESULTS_TABLE}", file=sys.stderr)


# --------------------------------------------------------------------------------------------- dry run
def dry_run(pipeline: Any, items: Sequence[Checked], args: argparse.Namespace) -> int:
    """Print what each row would do; send nothing, write nothing."""
    entries = read_ledger(pipeline, args.destination)
    first: Dict[str, int] = {}
    to_send = skipped = invalid = 0
    for item in items:
        if isinstance(item, Invalid):
            invalid += 1
            print(f"row {item.row}: invalid: {item.reason}")
            continue
        entry = entries.get(item.key)
        if item.key in first:
            print(f"row {item.row}: duplicate of row {first[item.key]}: not sent")
            continue
        first[item.key] = item.row
        if entry is not None and entry.status in SUBMITTED:
            skipped += 1
            print(f"row {item.row}: skip: already {entry.status}")
            continue
        if entry is not None and entry.status == AMBIGUOUS:
            print(f"row {item.row}: not sent: ambiguous in the ledger ({entry.message})")
            continue
        note = (
            " (after checking the woku's reviews for an unanswered earlier send)"
            if entry and entry.status == PENDING
            else ""
        )
        path = V1_PATH.format(woku_id=item.woku_id) if args.v1 else CLASSIC_PATH
        to_send += 1
        who = "anonymous" if item.anonymous else item.email
        print(
            f"row {item.row}: would POST {path}{note}: woku {item.woku_id}, qualification {item.qualification},"
            f" {who}, {item.file} ({item.size:,} bytes, {item.mime})"
        )
    print(
        f"voicemails (dry run) from {args.manifest}: {len(items):,} rows: {to_send:,} to send,"
        f" {skipped:,} already imported, {invalid:,} invalid; nothing sent, nothing written"
    )
    return EXIT_NOT_ALL_IMPORTED if invalid else 0


def read_ledger(pipeline: Any, destination: str) -> Dict[str, LedgerEntry]:
    """The ledger without creating anything: a DuckDB file or a dataset that does not exist is an empty ledger."""
    if destination == "duckdb":
        path = getattr(pipeline.destination_client().config.credentials, "database", None)
        if not path or not os.path.exists(str(path)):
            return {}
    with pipeline.sql_client() as sql:
        if not sql.has_dataset():
            return {}
        return SqlLedger(sql, destination).load()


def _api_key() -> str:
    """The configured key, only to scrub it from anything the API echoes back."""
    value = dlt.secrets.get("sources.woku.credentials.api_key")
    return str(value) if value else ""
