"""`woku_pipeline.py voicemails --manifest FILE`: the command around the importer (checks of the
options, the destination checked and earlier outcomes loaded before any POST (`outcomes.py`), the ledger
in the destination, each row's outcome journaled, dry run, summary and exit status)."""

import argparse
from datetime import datetime, timezone
from typing import Callable, Dict, Optional, Sequence

from pipelines.writeback.engine import EXIT_INCOMPLETE, finish, summary_line
from pipelines.writeback.ledger import AMBIGUOUS, PENDING, SUBMITTED, LedgerEntry, SqlLedger, read_ledger
from pipelines.writeback.outcomes import OutcomeTable, outcome_session
from pipelines.writeback.results import results_pipeline
from pipelines.writeback.voicemail_rows import Checked, Invalid, read_manifest
from pipelines.writeback.voicemail_tables import (
    RESULT_COLUMNS,
    RESULTS_SCHEMA,
    RESULTS_TABLE,
    result_record,
    voicemails_table,
)
from pipelines.writeback.voicemails import (
    CLASSIC_PATH,
    DUPLICATE,
    IMPORTED,
    LANGUAGES,
    STATUS_ORDER,
    V1_PATH,
    ImportReport,
    VoicemailImporter,
)
from sources.http_kit import ConfigError
from sources.woku import woku_client
from sources.woku.helpers.client import WokuClient

OUTCOMES = OutcomeTable(RESULTS_TABLE, RESULT_COLUMNS, RESULTS_SCHEMA)


def run_voicemails(args: argparse.Namespace, make_client: Optional[Callable[[], WokuClient]] = None) -> int:
    """The `voicemails` command (module docstring); `make_client` defaults to the pipeline's configuration."""
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

    run_at = datetime.now(timezone.utc)
    # the destination is checked, and earlier outcomes loaded, before the first request
    with outcome_session(args, "voicemails", OUTCOMES) as outcomes:
        client = make_client()
        try:
            with outcomes.pipeline.sql_client() as sql:
                ledger = SqlLedger(sql, args.destination)
                ledger.open()
                importer = VoicemailImporter(
                    client,
                    ledger,
                    v1=args.v1,
                    language=args.language,
                    settle=float(client.api.timeout[1]),
                    record=lambda o: outcomes.record(result_record(o, args.manifest, run_at)),
                )
                report = importer.run(items)
                landed = ledger.landed_keys()
        finally:
            client.close()

        submitted = [e for e in importer.entries.values() if e.status in SUBMITTED and e.key not in landed]
        return finish(
            summary=lambda tail: summary(report, tail),
            load=(lambda: outcomes.load([voicemails_table(submitted)])) if report.outcomes or submitted else None,
            tail=f"results in {args.dataset_name}.{RESULTS_TABLE}" if report.outcomes else "empty manifest",
            not_loaded=f"{outcomes.kept} (the ledger has every voicemail's state)",
            problems=[(o.row, o.status, o.message) for o in report.outcomes if o.status not in (*IMPORTED, DUPLICATE)],
            table=RESULTS_TABLE,
            aborted=report.aborted,
            complete=report.all_imported(),
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
        pending = entry is not None and entry.status == PENDING
        note = " (after checking the woku's reviews for an unanswered earlier send)" if pending else ""
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
    return EXIT_INCOMPLETE if invalid else 0
