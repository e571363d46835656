"""`woku_pipeline.py trackers`: write external tracker values onto Woku's records, and keep each row's outcome.

Input, exactly one of:
- `--file F`: a UTF-8 CSV whose header names exactly entity_type, entity_id, name and value (any order);
- `--from-table SCHEMA.TABLE`: those columns of a table or view in the destination (DuckDB or Postgres),
  e.g. a join an analyst made against the CRM. Rows are read in the table's scan order (insertion order
  for a table loaded once), so give it one row per (entity, name) when the order is not yours to set.

Every input row ends in `<dataset>.tracker_writeback_results` (appended, one load per run, `_dlt_load_id`
tells runs apart) with its status `assigned`, `rejected` or `failed`, and one summary line is printed.
The results are loaded by the pipeline `<pipeline-name>_trackers` (schema `woku_trackers`), into the same
dataset: a `--full-refresh` sync of the `woku` pipeline then cannot drop this audit trail.

`--dry-run` checks the rows and prints what would be sent, and, when an API key is configured, which
definitions would be created (reading the catalog: GET only). It sends and writes nothing.

Exit status: 0 when every row was assigned (or there were none); 6 (EXIT_NOT_ALL_ASSIGNED) when any row
was rejected or failed, or, in a dry run, is invalid. Errors that stop the run before any row is sent use
run_cli's codes: 2 configuration or input, 3 API key rejected, 4 API unavailable, 5 destination.
"""

import argparse
import csv
import json
import re
import sys
from typing import Any, Dict, List, Sequence, Tuple

import dlt

from pipelines.runner.sync import make_pipeline
from pipelines.warehouse.destinations import LOADER_FILE_FORMAT
from sources.http_kit import ConfigError
from sources.woku import woku_client as make_client
from sources.woku.trackers import (
    ASSIGNED,
    COLUMNS,
    FAILED,
    REJECTED,
    Checked,
    InputRow,
    RowResult,
    TrackerRow,
    TrackerWriteBack,
    WriteBackReport,
    plan_definitions,
    validate_rows,
)

EXIT_NOT_ALL_ASSIGNED = 6
RESULTS_TABLE = "tracker_writeback_results"
RESULTS_SCHEMA = "woku_trackers"
#: explicit types, so a column that is NULL in every row (http_status of a dry batch) still exists
RESULT_COLUMNS: Dict[str, Dict[str, Any]] = {
    "row_number": {"data_type": "bigint", "nullable": False},
    "entity_type": {"data_type": "text", "nullable": True},
    "entity_id": {"data_type": "text", "nullable": True},
    "name": {"data_type": "text", "nullable": True},
    "status": {"data_type": "text", "nullable": False},
    "http_status": {"data_type": "bigint", "nullable": True},
    "message": {"data_type": "text", "nullable": True},
    "at": {"data_type": "timestamp", "nullable": False, "timezone": True},
}
#: problems printed to stderr after a run; the table holds them all
SHOWN_PROBLEMS = 10
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_SQL_DESTINATIONS = ("duckdb", "postgres")


def run_trackers(args: argparse.Namespace) -> int:
    if bool(args.file) == bool(args.from_table):
        raise ConfigError("trackers: give exactly one of --file F or --from-table SCHEMA.TABLE")
    pipeline = None
    if args.file:
        raw = read_csv(args.file)
        source = args.file
    else:
        pipeline = results_pipeline(args)
        raw = read_table(pipeline, args.destination, args.from_table)
        source = args.from_table
    rows = validate_rows(raw)
    if args.dry_run:
        return dry_run(rows, args.create_missing, source)

    client = make_client()
    try:
        writer = TrackerWriteBack(client)
        report = writer.run(rows, create_missing=args.create_missing)
    finally:
        client.close()
    pipeline = pipeline or results_pipeline(args)
    where = f"{args.dataset_name}.{RESULTS_TABLE}"
    if report.results:
        try:
            load_results(pipeline, report.results, args.destination)
        except Exception:
            print(summary(report, "results NOT loaded"), file=sys.stderr)
            raise
    print(summary(report, f"results in {where}" if report.results else "nothing to send"))
    show_problems(report.results)
    if report.aborted is not None:
        raise report.aborted
    counts = report.counts()
    return EXIT_NOT_ALL_ASSIGNED if counts[REJECTED] or counts[FAILED] else 0


# ----------------------------------------------------------------------------------------------- input
def read_csv(path: str) -> List[InputRow]:
    """Rows of a CSV with the four columns; a bad header or an unreadable file is a ConfigError.

    Row numbers count data rows from 1: the header is not one, and neither is a blank line (a row of
    empty fields, `,,,`, is one: it is rejected and recorded). A row with the wrong number of fields is
    an invalid row, not a reason to stop.
    """
    label = f"--file {path}"
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                raise ConfigError(f"{label} is empty; expected the header {','.join(COLUMNS)}")
            names = [h.strip().lower() for h in header]
            if sorted(names) != sorted(COLUMNS):
                raise ConfigError(
                    f"{label}: the header is {','.join(h.strip() for h in header)[:200]!r};"
                    f" expected exactly {','.join(COLUMNS)}"
                )
            rows: List[InputRow] = []
            for fields in reader:
                if not fields or (len(fields) == 1 and not fields[0].strip()):
                    continue
                problems = []
                if len(fields) != len(names):
                    problems.append(
                        f"the row has {len(fields)} fields, expected {len(names)} (quote values that contain commas)"
                    )
                rows.append((len(rows) + 1, dict(zip(names, fields, strict=False)), problems))
            return rows
    except FileNotFoundError:
        raise ConfigError(f"{label}: no such file") from None
    except IsADirectoryError:
        raise ConfigError(f"{label} is a directory, not a CSV file") from None
    except PermissionError:
        raise ConfigError(f"{label} cannot be read (permission denied)") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{label} is not UTF-8 text") from None
    except csv.Error as exc:
        raise ConfigError(f"{label} is not valid CSV: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{label} cannot be read: {exc.strerror or type(exc).__name__}") from None


def parse_table_name(text: str) -> Tuple[str, str]:
    """SCHEMA.TABLE, each part a plain SQL identifier: it is quoted into a query, so nothing else passes."""
    parts = text.strip().split(".")
    if len(parts) != 2 or not all(_IDENTIFIER.match(p) for p in parts):
        raise ConfigError(
            f"--from-table: {text[:100]!r} is not SCHEMA.TABLE"
            " (letters, digits and _, each part starting with a letter or _)"
        )
    return parts[0], parts[1]


def read_table(pipeline: Any, destination: str, table: str) -> List[InputRow]:
    """The four columns of SCHEMA.TABLE through the destination's SQL client; numbers become text later."""
    schema_name, table_name = parse_table_name(table)
    if destination not in _SQL_DESTINATIONS:
        raise ConfigError(f"--from-table reads from {' or '.join(_SQL_DESTINATIONS)}, not {destination!r}")
    with pipeline.sql_client() as client:
        with client.execute_query(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns"
            " WHERE lower(table_schema) = lower(%s) AND lower(table_name) = lower(%s)",
            schema_name,
            table_name,
        ) as cursor:
            catalog = cursor.fetchall()
        # an exact match wins over one that differs only in case (Postgres folds unquoted names)
        exact = [c for c in catalog if (c[0], c[1]) == (schema_name, table_name)]
        catalog = exact or catalog
        tables = {(c[0], c[1]) for c in catalog}
        if not tables:
            raise ConfigError(
                f"--from-table: no table or view {schema_name}.{table_name} in the {destination} destination"
            )
        if len(tables) > 1:
            raise ConfigError(f"--from-table: {schema_name}.{table_name} matches several tables that differ in case")
        real_schema, real_table = tables.pop()
        by_lower = {c[2].lower(): c[2] for c in catalog}
        missing = [c for c in COLUMNS if c not in by_lower]
        if missing:
            raise ConfigError(f"--from-table {schema_name}.{table_name} lacks the column(s) {', '.join(missing)}")
        columns = ", ".join(_quote(by_lower[c]) for c in COLUMNS)
        with client.execute_query(f"SELECT {columns} FROM {_quote(real_schema)}.{_quote(real_table)}") as cursor:
            return [(n, dict(zip(COLUMNS, values, strict=True)), ()) for n, values in enumerate(cursor.fetchall(), 1)]


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


# ---------------------------------------------------------------------------------------------- output
def results_pipeline(args: argparse.Namespace) -> Any:
    """The user's destination and dataset, under a pipeline of its own (see the module docstring)."""
    return make_pipeline(argparse.Namespace(**{**vars(args), "pipeline_name": f"{args.pipeline_name}_trackers"}))


def load_results(pipeline: Any, results: Sequence[RowResult], destination: str) -> None:
    pipeline.run(
        [r.as_record() for r in results],
        table_name=RESULTS_TABLE,
        write_disposition="append",
        columns=RESULT_COLUMNS,
        schema=dlt.Schema(RESULTS_SCHEMA),
        loader_file_format=LOADER_FILE_FORMAT.get(destination),
    )


def summary(report: WriteBackReport, tail: str) -> str:
    counts = report.counts()
    parts = [
        f"trackers: {len(report.results):,} rows: {counts[ASSIGNED]:,} assigned, {counts[REJECTED]:,} rejected,"
        f" {counts[FAILED]:,} failed ({report.requests:,} requests, {report.retries:,} retries)"
    ]
    if report.created:
        parts.append(f"created {len(report.created)} definition(s): {', '.join(report.created)}")
    if report.stopped:
        parts.append(f"stopped sending: {report.stopped}")
    parts.append(tail)
    return "; ".join(parts)


def show_problems(results: Sequence[RowResult]) -> None:
    """The first few rows that were not assigned, on stderr: enough to see the pattern."""
    problems = [r for r in results if r.status != ASSIGNED]
    for r in problems[:SHOWN_PROBLEMS]:
        print(f"row {r.row_number}: {r.status}: {r.message}", file=sys.stderr)
    if len(problems) > SHOWN_PROBLEMS:
        print(f"... and {len(problems) - SHOWN_PROBLEMS:,} more, see {RESULTS_TABLE}", file=sys.stderr)


def dry_run(rows: Sequence[Checked], create_missing: bool, source: str) -> int:
    """Print what would be sent and what is wrong; send and write nothing."""
    valid = [r for r in rows if isinstance(r, TrackerRow)]
    invalid = [r for r in rows if isinstance(r, RowResult)]
    for row in rows:
        if isinstance(row, TrackerRow):
            print(f"row {row.row_number}: POST {row.path} {json.dumps(row.body, ensure_ascii=False)}")
        else:
            print(f"row {row.row_number}: invalid: {row.message}")
    notes = _definition_notes(rows, create_missing) if valid else []
    for note in notes:
        print(note)
    print(
        f"trackers (dry run) from {source}: {len(rows):,} rows: {len(valid):,} valid, {len(invalid):,} invalid;"
        " nothing sent, nothing written"
    )
    return EXIT_NOT_ALL_ASSIGNED if invalid else 0


def _definition_notes(rows: Sequence[Checked], create_missing: bool) -> List[str]:
    """What the catalog says about the names in use (GET only); skipped without an API key."""
    if not _api_key():
        return ["definitions not checked: no API key configured"]
    client = make_client()
    try:
        plan = plan_definitions(rows, TrackerWriteBack(client).definitions())
    finally:
        client.close()
    notes = []
    if plan.to_create:
        verb = "would create" if create_missing else "absent (rows rejected unless --create-missing)"
        notes.append(f"definitions {verb}: {', '.join(plan.to_create)}")
    if plan.inactive:
        notes.append(f"definitions inactive (their rows would be rejected): {', '.join(plan.inactive)}")
    return notes


def _api_key() -> str:
    """The configured key, only to scrub it from anything the API echoes back."""
    value = dlt.secrets.get("sources.woku.credentials.api_key")
    return str(value) if value else ""
