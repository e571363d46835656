"""The voicemail ledger: what we know of each voicemail (one key) on Woku, durable between runs.

The create POST has no idempotency key, so each send is: entry saved `pending` -> POST -> outcome saved, each
save one autocommitted upsert into `<dataset>.voicemail_ledger` (a dlt load per row would take a second). The
table is no dlt schema's, so no `--full-refresh` drops it; `voicemails` is a view over it."""

import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Protocol, Tuple

from dlt.destinations.exceptions import DatabaseUndefinedRelation

from pipelines.writeback.outcomes import columns_of
from sources.http_kit import SourceError

Record = Dict[str, Any]

LEDGER_TABLE = "voicemail_ledger"
VOICEMAILS_VIEW = "voicemails"

# ledger statuses
PENDING = "pending"
ACCEPTED = "accepted"
RECOVERED = "recovered"
UNCERTAIN = "uncertain"
AMBIGUOUS = "ambiguous"
NOT_CREATED = "not_created"
REJECTED = "rejected"
#: Woku holds the voicemail (proven, or as good as): never sent again
SUBMITTED = (ACCEPTED, RECOVERED, UNCERTAIN)


@dataclass
class LedgerEntry:
    """What we know of one voicemail (one key) on Woku: the latest send and its outcome."""

    key: str
    woku_id: str
    sha256: str
    client: str
    anonymous: bool
    qualification: int
    status: str = PENDING
    attempts: int = 0
    #: epoch seconds on our clock, just before the latest POST
    sent_at: Optional[float] = None
    #: when that POST ended (answer or failure); None while in flight, or when the run died
    ended_at: Optional[float] = None
    route: Optional[str] = None
    language: Optional[str] = None
    http_status: Optional[int] = None
    message: Optional[str] = None
    client_id: Optional[str] = None
    file_url: Optional[str] = None
    review_id: Optional[str] = None
    #: the API's answer (accepted) or the review found for it (recovered, uncertain)
    answer: Optional[Record] = None
    manifest_row: Optional[int] = None
    manifest_file: Optional[str] = None
    updated_at: Optional[float] = None

    def settled_at(self, settle: float) -> float:
        """When the server has surely finished with the latest POST (see the lost-answer rule)."""
        return (self.ended_at or self.sent_at or 0.0) + settle


class Ledger(Protocol):
    """Where entries live between runs; `save` is durable when it returns."""

    def load(self) -> Dict[str, LedgerEntry]: ...

    def save(self, entry: LedgerEntry) -> None: ...


#: (field, column, dlt type, nullable) per field of LedgerEntry; floats (double) are instants, dicts JSON text
COLUMNS: List[Tuple[str, str, str, bool]] = [
    (f, "ledger_key" if f == "key" else f, c["data_type"], c["nullable"]) for f, c in columns_of(LedgerEntry).items()
]
_NAMES = [c for _, c, _, _ in COLUMNS]
_SQL_TYPES = {"text": "TEXT", "bigint": "BIGINT", "bool": "BOOLEAN", "double": "TIMESTAMPTZ", "json": "TEXT"}
#: the API's answer as columns, for submitted voicemails; JSON operators both DuckDB and PostgreSQL read
_VIEW = """CREATE OR REPLACE VIEW {view} AS SELECT ledger_key, status, route, woku_id, sha256, client, manifest_row,
 manifest_file, qualification, CAST(answer AS JSON) -> 'qualification' ->> '_id' AS qualification_id, anonymous,
 CAST(answer AS JSON) ->> 'transcription' AS transcription, CAST(answer AS JSON) ->> 'feedbackType' AS feedback_type,
 CAST(answer AS JSON) -> 'file' ->> 'filename' AS file_filename, CAST(answer AS JSON) -> 'file' ->> 'type' AS file_type,
 file_url, client_id, review_id, attempts, COALESCE(ended_at, sent_at) AS submitted_at
 FROM {ledger} WHERE status IN ('accepted', 'recovered', 'uncertain')"""


class SqlLedger:
    """The ledger as a table in the destination (DuckDB or PostgreSQL), one autocommitted upsert per save."""

    def __init__(self, sql: Any, destination: str) -> None:
        self.sql = sql
        self.destination = destination
        self.table = sql.make_qualified_table_name(LEDGER_TABLE)
        self._upsert = (
            f"INSERT INTO {self.table} ({', '.join(_NAMES)}) VALUES ({', '.join(['%s'] * len(_NAMES))})"
            f" ON CONFLICT (ledger_key) DO UPDATE SET {', '.join(f'{n} = excluded.{n}' for n in _NAMES[1:])}"
        )

    def open(self) -> None:
        """Create the dataset, table and view when absent. One import at a time per ledger: DuckDB locks its
        file while connected; on PostgreSQL a session advisory lock (freed when the process dies)."""
        if not self.sql.has_dataset():
            self.sql.create_dataset()
        defs = [f"{c} {_SQL_TYPES[k]}{'' if null else ' NOT NULL'}" for _, c, k, null in COLUMNS]
        self.sql.execute_sql(f"CREATE TABLE IF NOT EXISTS {self.table} ({', '.join(defs)}, PRIMARY KEY (ledger_key))")
        if self.destination == "postgres":
            rows = self.sql.execute_sql("SELECT pg_try_advisory_lock(hashtext(%s))", self.table)
            if not rows or not rows[0][0]:
                raise SourceError(f"another voicemail import is using {self.table}; run again when it has finished")
        view = self.sql.make_qualified_table_name(VOICEMAILS_VIEW)
        self.sql.execute_sql(_VIEW.format(view=view, ledger=self.table))

    def load(self) -> Dict[str, LedgerEntry]:
        try:
            rows = self.sql.execute_sql(f"SELECT {', '.join(_NAMES)} FROM {self.table}") or []
        except DatabaseUndefinedRelation:
            return {}
        entries = [{f: _read(k, v) for (f, _, k, _), v in zip(COLUMNS, row, strict=True)} for row in rows]
        return {e["key"]: LedgerEntry(**e) for e in entries}

    def save(self, entry: LedgerEntry) -> None:
        self.sql.execute_sql(self._upsert, *[_write(k, getattr(entry, f)) for f, _, k, _ in COLUMNS])


def _write(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "double":
        return datetime.fromtimestamp(value, timezone.utc)
    return json.dumps(value, ensure_ascii=False, default=str) if kind == "json" else value


def _read(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "double":  # DuckDB and PostgreSQL both answer an aware datetime
        return value.timestamp()
    return json.loads(value) if kind == "json" else value


def read_ledger(pipeline: Any, destination: str) -> Dict[str, LedgerEntry]:
    """The ledger without creating anything: a DuckDB file or a dataset that does not exist is an empty ledger."""
    if destination == "duckdb":
        path = getattr(pipeline.destination_client().config.credentials, "database", None)
        if not path or not os.path.exists(str(path)):
            return {}
    with pipeline.sql_client() as sql:
        return SqlLedger(sql, destination).load()
