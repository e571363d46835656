"""What every write-back does around its sends, so no outcome is lost and no summary claims a load that failed.

`outcome_session` (one implementation for `trackers` and `voicemails`), before the first request:
1. takes the lock of the results pipeline `<pipeline-name>_<command>` (two runs would share its journal and
   load packages; `pipelines/runner/lock.py`);
2. checks the destination answers and can take the tables (`check_destination`), without creating anything;
3. loads the pipeline's pending packages (an earlier run's outcomes whose load failed);
4. loads the journal an earlier run left (killed, or its load failed), then removes it.
Any of these failing ends the run with exit 5 and one line naming the cause: nothing was sent.
During the run each outcome goes to the journal (`journal.py`) as it is decided; `load` at the end lands the
journal's rows and removes the file. When that load fails the file stays, and the next run loads it first.
"""

import argparse
import contextlib
import os
from dataclasses import dataclass
from typing import Any, Dict, Iterator, Mapping, Sequence

from dlt.common.pipeline import get_dlt_pipelines_dir

from pipelines.runner.cli import EXIT_DESTINATION, FailureWithStatus, explain
from pipelines.runner.lock import pipeline_lock
from pipelines.writeback.journal import KEY, Journal, journal_path, read_journal
from pipelines.writeback.results import Table, column, load_tables, results_dir, results_pipeline
from sources.http_kit import AuthError


class NothingSent(FailureWithStatus):
    """The destination cannot take this run's outcomes: stop before the first request (exit 5)."""

    def __init__(self, cause: str) -> None:
        super().__init__(f"{cause}; nothing was sent", EXIT_DESTINATION)


@dataclass(frozen=True)
class OutcomeTable:
    """The table a command's outcomes land in: one row per input row per run, merged on (run_id, row_number)."""

    name: str
    columns: Mapping[str, Mapping[str, Any]]
    schema: str

    @property
    def all_columns(self) -> Dict[str, Mapping[str, Any]]:
        # nullable: rows of runs before the journal have no run_id (NOT NULL cannot be added to them)
        return {**self.columns, "run_id": column("text")}

    def table(self, rows: Sequence[Mapping[str, Any]]) -> Table:
        return Table(self.name, rows, self.all_columns, "merge", primary_key=KEY)


@dataclass
class Outcomes:
    """One run's outcomes: `record` each as it is decided, `load` them at the end."""

    pipeline: Any
    destination: str
    spec: OutcomeTable
    journal: Journal

    def record(self, record: Mapping[str, Any]) -> None:
        self.journal.write(record)

    def load(self, extra: Sequence[Table] = ()) -> None:
        """Land the journal's rows (and `extra` tables) in one load, then remove the journal."""
        rows = read_journal(self.journal.path, self.spec.all_columns)
        load_tables(self.pipeline, [*extra, self.spec.table(rows)], self.spec.schema, self.destination)
        self.journal.remove()

    @property
    def kept(self) -> str:
        """The summary's tail when the load failed: where the outcomes are, and when they will land."""
        return (
            f"results NOT loaded: the {self.journal.written:,} outcomes are kept in {self.journal.path}"
            f" and the next run loads them before it sends anything"
        )


@contextlib.contextmanager
def outcome_session(args: argparse.Namespace, command: str, spec: OutcomeTable) -> Iterator[Outcomes]:
    """The results pipeline, locked and ready (module docstring), with this run's journal."""
    pipelines_dir = get_dlt_pipelines_dir()
    name = f"{args.pipeline_name}_{command}"
    with pipeline_lock(pipelines_dir, name):
        pipeline = results_pipeline(args, command)
        path = results_journal(pipelines_dir, name, args.destination, args.dataset_name)
        earlier = _prepare(pipeline, args.destination, spec, path)
        if earlier:
            print(f"loaded {earlier:,} outcomes an earlier run left in {path} into {args.dataset_name}.{spec.name}")
        journal = Journal(path)
        try:
            yield Outcomes(pipeline, args.destination, spec, journal)
        except AuthError:
            journal.remove()  # a key refused before any answer: nothing was written, nothing to record
            raise
        finally:
            journal.close()
            if journal.written == 0:
                journal.remove()


def results_journal(pipelines_dir: str, name: str, destination: str, dataset: str) -> str:
    """The journal of the results pipeline `name` for one destination and dataset (`results_dir`)."""
    return journal_path(results_dir(pipelines_dir, name, destination, dataset), name)


def _prepare(pipeline: Any, destination: str, spec: OutcomeTable, path: str) -> int:
    """Steps 2-4 of the module docstring; the number of outcomes an earlier run's journal held."""
    with nothing_sent_on_failure("the results of an earlier run could not be loaded ({})"):
        check_destination(pipeline, destination)
        if pipeline.has_pending_data:
            pipeline.load()
        rows = read_journal(path, spec.all_columns)
        if rows:
            load_tables(pipeline, [spec.table(rows)], spec.schema, destination)
    if rows:
        os.remove(path)
    return len(rows)


def check_destination(pipeline: Any, destination: str) -> None:
    """The destination answers and this run can create its dataset and tables; nothing is created here.

    DuckDB: the file's folder is writable, and an existing file opens for writing (not locked by another
    process, not read-only). PostgreSQL: a connection, a session that is not read-only, and the right to
    create the schema (absent) or tables in it. Others: a connection and a trivial statement.
    """
    if destination == "duckdb":
        path = str(pipeline.destination_client().config.credentials.database)
        if not os.path.exists(path):
            folder = os.path.dirname(os.path.abspath(path))
            if not os.access(folder, os.W_OK):
                raise NothingSent(f"destination failed: the DuckDB file {path} cannot be created in {folder}")
            return
        if not os.access(path, os.W_OK):
            raise NothingSent(f"destination failed: the DuckDB file {path} is read-only")
    with nothing_sent_on_failure("{}"), pipeline.sql_client() as sql:
        sql.execute_sql("SELECT 1")
        if destination == "postgres":
            _check_postgres(sql)


@contextlib.contextmanager
def nothing_sent_on_failure(message: str) -> Iterator[None]:
    """An expected failure before the first request becomes NothingSent, its one line put into
    `message` at `{}`; a bug stays a bug."""
    try:
        yield
    except NothingSent:
        raise
    except Exception as exc:
        explained = explain(exc)
        if explained is None:
            raise
        raise NothingSent(message.format(explained[0])) from exc


def _check_postgres(sql: Any) -> None:
    read_only = sql.execute_sql("SHOW transaction_read_only")
    if read_only and str(read_only[0][0]).lower() == "on":
        raise NothingSent("destination failed: the PostgreSQL session is read-only (a standby?)")
    if sql.has_dataset():
        allowed = sql.execute_sql("SELECT has_schema_privilege(%s, 'CREATE')", sql.dataset_name)
        what = f"tables in schema {sql.dataset_name}"
    else:
        allowed = sql.execute_sql("SELECT has_database_privilege(current_database(), 'CREATE')")
        what = f"schema {sql.dataset_name}"
    if not allowed or not allowed[0][0]:
        raise NothingSent(f"destination failed: this PostgreSQL user may not create {what}")
