"""Every write-back's outcomes: journaled (fsync'd) as decided, loaded at the end by a dlt pipeline of their
own (`<pipeline-name>_<command>`, which no `--full-refresh` sync drops). The journal is what survives a failed
load or a killed run; the voicemail ledger guards something else, a POST never to be repeated."""

import argparse
import contextlib
import json
import logging
import os
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import (
    Any,
    Callable,
    Dict,
    Iterator,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    get_args,
    get_origin,
    get_type_hints,
)

import dlt
from dlt.common.data_types.type_helpers import py_type_to_sc_type
from dlt.common.pipeline import get_dlt_pipelines_dir

from pipelines.runner.cli import EXIT_DESTINATION, EXIT_INCOMPLETE, FailureWithStatus, explain
from pipelines.runner.lock import pipeline_lock
from pipelines.runner.sync import make_pipeline
from pipelines.warehouse.destinations import LOADER_FILE_FORMAT
from sources.http_kit import AuthError, SourceError
from sources.http_kit.redact import one_line

logger = logging.getLogger(__name__)

#: the outcome tables' merge key: one row per input row per run
KEY = ("run_id", "row_number")
#: problems printed to stderr after a run; the results table holds them all
SHOWN_PROBLEMS = 10
Columns = Dict[str, Dict[str, Any]]


def columns_of(record: type) -> Columns:
    """dlt column hints of a dataclass whose instances are the rows (`Optional[X]` is X and nullable): typed,
    so a column that is NULL in every row of a load still lands."""
    columns = {}
    for name, hint in get_type_hints(record).items():
        args = [a for a in get_args(hint) if a is not type(None)]
        kind = args[0] if args else hint
        columns[name] = {"data_type": py_type_to_sc_type(get_origin(kind) or kind), "nullable": bool(args)}
    return columns


# ----------------------------------------------------------------------------------------------- journal
class Journal:
    """Appends outcomes to a JSON-lines file; `write` returns only once the line is on disk."""

    def __init__(self, path: str, run_id: Optional[str] = None) -> None:
        self.path = path
        #: sortable by start time, unique across hosts sharing a dataset
        self.run_id = run_id or f"{datetime.now(timezone.utc):%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:8]}"
        self.written = 0
        folder = os.path.dirname(path) or "."
        os.makedirs(folder, exist_ok=True)
        existed = os.path.exists(path)
        self.file = os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "a", encoding="utf-8")
        if not existed:  # the file's name is durable too
            fd = os.open(folder, os.O_RDONLY)
            os.fsync(fd)
            os.close(fd)

    def write(self, record: Mapping[str, Any]) -> None:
        """Append one outcome (stamped with this run's id) and fsync it."""
        self.file.write(json.dumps({**record, "run_id": self.run_id}, ensure_ascii=False, default=datetime.isoformat))
        self.file.write("\n")
        self.file.flush()
        os.fsync(self.file.fileno())
        self.written += 1

    def close(self) -> None:
        self.file.close()

    def remove(self) -> None:
        self.close()
        with contextlib.suppress(FileNotFoundError):
            os.remove(self.path)


def read_journal(path: str, columns: Mapping[str, Mapping[str, Any]]) -> List[Dict[str, Any]]:
    """The outcomes in the file (none when absent), the last line per key winning, timestamps decoded.

    A last line without its line break was cut short by a crash before its fsync returned, so it was never
    reported: skipped with a warning. Any other line that is not an outcome is a SourceError: a run that
    sent on would leave that line's outcomes behind for good.
    """
    try:
        with open(path, "rb") as fh:
            lines = fh.read().split(b"\n")
    except FileNotFoundError:
        return []
    rows: Dict[Tuple[Any, ...], Dict[str, Any]] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = _outcome(line, columns)
        except ValueError as exc:
            if number < len(lines):
                raise SourceError(
                    f"journal {path}: line {number} {exc}; fix that line, or move it aside to go on without loading"
                    " its outcomes (it is kept as it is)"
                ) from None
            logger.warning(
                "journal %s: line %d was cut short by a run that ended while writing it; skipped",
                path,
                number,
            )
            continue
        rows[tuple(record[k] for k in KEY)] = record
    return list(rows.values())


_JSON_TYPES = {"text": str, "bigint": int, "bool": bool, "timestamp": str}


def _outcome(line: bytes, columns: Mapping[str, Mapping[str, Any]]) -> Dict[str, Any]:
    """One journal line as a record of the table's columns, else ValueError saying why."""
    try:
        record = json.loads(line)
    except ValueError:  # not UTF-8, or not JSON
        raise ValueError("is not JSON text") from None
    if not isinstance(record, dict) or not set(record) <= set(columns):
        raise ValueError("is not an outcome (a JSON object of the table's columns)")
    for name, hint in columns.items():
        value = record.get(name)
        if value is None and (name in KEY or not hint["nullable"]):
            raise ValueError(f"lacks {name}")
        if value is not None and type(value) is not _JSON_TYPES[hint["data_type"]]:
            raise ValueError(f"has {name} {str(value)[:40]!r}, not of the column's type ({hint['data_type']})")
        if value is not None and hint["data_type"] == "timestamp":
            try:
                record[name] = datetime.fromisoformat(value)
            except ValueError:
                raise ValueError(f"has {name} {value[:40]!r}, not a timestamp") from None
    return record


# ----------------------------------------------------------------------------------------------- session
def results_pipeline(args: argparse.Namespace, command: str) -> Any:
    """The user's destination and dataset, under the pipeline `<pipeline-name>_<command>`, in a local folder
    per destination and dataset: what a run keeps for the next (a pending package, a journal) must be loaded
    only into that dataset, and dlt loads a pipeline's pending packages into whatever dataset it names now."""
    name = f"{args.pipeline_name}_{command}"
    where = os.path.join(get_dlt_pipelines_dir(), f"{name}.{args.destination}.{args.dataset_name}")
    return make_pipeline(argparse.Namespace(**{**vars(args), "pipeline_name": name}), pipelines_dir=where)


@dataclass
class Outcomes:
    """One run's outcomes: `record` each as it is decided, `finish` loads them and ends the run."""

    pipeline: Any
    destination: str
    dataset: str
    table: str
    #: the table's columns (run_id included) and its dlt schema, `woku_<command>`
    columns: Columns
    schema: str
    path: str
    journal: Optional[Journal] = None

    def record(self, record: Mapping[str, Any]) -> None:
        assert self.journal is not None, "outcomes are recorded inside outcome_session"
        self.journal.write(record)

    def load(self) -> int:
        """Load pending packages, then the journal's rows merged on KEY, then remove the journal; the number of
        rows. Pending packages first: dlt's `run` would load them instead of these rows, and say nothing."""
        if self.pipeline.has_pending_data:
            self.pipeline.load()
        rows = read_journal(self.path, self.columns)
        if rows:
            resource = dlt.resource(
                rows, name=self.table, write_disposition="merge", primary_key=KEY, columns=self.columns
            )
            file_format = LOADER_FILE_FORMAT.get(self.destination)
            self.pipeline.run(resource, schema=dlt.Schema(self.schema), loader_file_format=file_format)
        if self.journal is not None:
            self.journal.close()
        with contextlib.suppress(FileNotFoundError):  # a journal of only a torn line goes too
            os.remove(self.path)
        return len(rows)

    def finish(
        self,
        summary: Callable[[str], str],
        problems: Sequence[Tuple[int, str, Optional[str]]],
        *,
        aborted: Optional[SourceError],
        complete: bool,
        empty: str,
    ) -> int:
        """Load the outcomes, print the summary (ending in `empty` when there were none) and the first problems,
        and give the exit status. A failed load prints the summary, saying where the outcomes are kept, on
        stderr and exits 5."""
        tail = empty
        if self.journal is not None and self.journal.written:
            try:
                self.load()
            except Exception as exc:
                explained = explain(exc)
                kept = f"results NOT loaded: the {self.journal.written:,} outcomes are kept in {self.path}"
                print(summary(f"{kept} and the next run loads them before it sends anything"), file=sys.stderr)
                if explained is None:
                    raise  # a bug: its traceback
                raise FailureWithStatus(explained[0], EXIT_DESTINATION) from exc
            tail = f"results in {self.dataset}.{self.table}"
        print(summary(tail))
        show_problems(problems, self.table)
        if aborted is not None:
            raise aborted
        return 0 if complete else EXIT_INCOMPLETE


@contextlib.contextmanager
def outcome_session(args: argparse.Namespace, command: str, table: str, columns: Columns) -> Iterator[Outcomes]:
    """Before the first request: lock the results pipeline (two runs would share its journal), check the
    destination, load pending packages and an earlier run's journal; any failure exits 5, nothing sent.
    Yields this run's outcomes, journaled until loaded."""
    pipelines_dir, name = get_dlt_pipelines_dir(), f"{args.pipeline_name}_{command}"
    columns = {**columns, "run_id": {"data_type": "text", "nullable": True}}  # DuckDB adds no NOT NULL column
    with pipeline_lock(pipelines_dir, name):
        pipeline = results_pipeline(args, command)
        # beside the pipeline's working folder (dlt may wipe that folder when it restores state)
        path = os.path.join(pipeline.pipelines_dir, f"{name}.journal.jsonl")
        outcomes = Outcomes(pipeline, args.destination, args.dataset_name, table, columns, f"woku_{command}", path)
        with nothing_sent_on_failure("{}"):
            check_destination(pipeline, args.destination)
        with nothing_sent_on_failure("the results of an earlier run could not be loaded ({})"):
            earlier = outcomes.load()
        if earlier:
            print(f"loaded {earlier:,} outcomes an earlier run left in {path} into {args.dataset_name}.{table}")
        journal = outcomes.journal = Journal(path)
        try:
            yield outcomes
        except AuthError:
            journal.remove()  # a key refused before any answer: nothing was written, nothing to record
            raise
        finally:
            journal.close()
            if journal.written == 0:
                journal.remove()


def check_destination(pipeline: Any, destination: str) -> None:
    """The destination answers (a DuckDB file not yet there: can be created, and is not created here)."""
    if destination == "duckdb":
        path = str(pipeline.destination_client().config.credentials.database)
        if not os.path.exists(path):
            if not os.access(os.path.dirname(os.path.abspath(path)), os.W_OK):
                raise SourceError(f"destination failed: the DuckDB file {path} cannot be created")
            return
    with pipeline.sql_client() as sql:
        sql.execute_sql("SELECT 1")


@contextlib.contextmanager
def nothing_sent_on_failure(message: str) -> Iterator[None]:
    """An expected failure before the first request exits 5, its line put into `message`."""
    try:
        yield
    except Exception as exc:
        explained = explain(exc)
        if explained is None:
            raise  # a bug: its traceback
        raise FailureWithStatus(f"{message.format(explained[0])}; nothing was sent", EXIT_DESTINATION) from exc


# ------------------------------------------------------------------------------------------------ sending
@dataclass
class Sending:
    """When a write-back stops sending, the same for both commands: a key refused before any answer ends
    the run at once; refused after one (revoked mid-run), or `limit` failures in a row (the API is down),
    every later row is recorded `not sent: <why>`."""

    limit: int
    failures: int = 0
    answered: bool = False
    stopped: Optional[str] = None
    aborted: Optional[SourceError] = None

    @property
    def halted(self) -> Optional[str]:
        """The message of a row not sent, or None while rows are sent."""
        why = self.stopped or (f"the API rejected the key: {self.aborted}" if self.aborted else None)
        return one_line(f"not sent: {why}") if why else None

    def revoked(self, exc: AuthError) -> str:
        """The message of the row the key was refused on; `exc` is raised when nothing was answered yet."""
        if not self.answered:
            raise exc
        self.aborted = exc
        return one_line(str(exc))

    def count(self, *, answered: bool, failed: bool, can_stop: bool = True) -> bool:
        """One request's result (a failure counts, anything else resets the count): True when sending must
        stop, and the caller says why in `stopped`."""
        self.answered = self.answered or answered
        self.failures = self.failures + 1 if failed else 0
        return self.failures >= self.limit and can_stop


def summary_line(head: str, notes: Sequence[str], stopped: Optional[str], tail: str) -> str:
    """`<counts>; <notes>; stopped sending: <why>; <where the results are>`: one line per run."""
    return "; ".join([head, *notes, *([f"stopped sending: {stopped}"] if stopped else []), tail])


def show_problems(problems: Sequence[Tuple[int, str, Optional[str]]], table: str) -> None:
    """The first (row, status, message) that were not written, on stderr: enough to see the pattern."""
    for row, status, message in problems[:SHOWN_PROBLEMS]:
        print(f"row {row}: {status}: {message}", file=sys.stderr)
    if len(problems) > SHOWN_PROBLEMS:
        print(f"... and {len(problems) - SHOWN_PROBLEMS:,} more, see {table}", file=sys.stderr)
