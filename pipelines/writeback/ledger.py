"""The voicemail ledger: what we know of each voicemail (one key) on Woku, kept durably between runs.

The POST that creates a voicemail has no idempotency key, so every send goes through the ledger:
1. the entry is saved `pending`, with the send time, BEFORE the POST (`Ledger.save` is durable on return);
2. after it: `accepted` (201; the answer is kept), `rejected` (4xx: not created), `not_created` (401);
3. otherwise the answer was lost (timeout, reset, 5xx, unreadable body, or the run died): the entry stays
   `pending` and is never sent again before the lost-answer rule (`lost_answers.py`) has looked for it.

In the destination it is the table `<dataset>.voicemail_ledger` (DuckDB or PostgreSQL), one row per key,
owned by this command rather than by a dlt schema (so no `--full-refresh` of a sync can drop it). It is
read at start through the pipeline's sql_client (absent = empty), and written through that same connection
one row at a time: an autocommitted `INSERT ... ON CONFLICT (ledger_key) DO UPDATE`, a few milliseconds
each. A dlt load per row would take a second or more, and a dlt load of a batch of `pending` rows would
give them one send time, which is what the lost-answer rule matches reviews on.

Why it holds when the process is SIGKILLed at any moment: a committed row outlives the process (DuckDB's
write-ahead log, PostgreSQL's commit), and each send is pending-commit -> POST -> outcome-commit.
- Killed before the pending commit: nothing was sent, and the next run sends the row.
- Killed after it (during the POST, or before the outcome commit): the next run finds the row `pending`,
  waits for it to settle and looks for it among the woku's reviews before any re-send.
- Killed after the outcome commit, before the outcome tables are loaded: the answer is in the ledger, and
  the next run loads every submitted entry that `voicemails` lacks.
One import at a time per ledger: DuckDB locks its file while the connection is open, and on PostgreSQL
the run takes a session advisory lock (released when the connection ends, also when the process dies).
"""

import json
import os
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Protocol, Set

from dlt.destinations.exceptions import DatabaseUndefinedRelation

from sources.http_kit import SourceError

Record = Dict[str, Any]

LEDGER_TABLE = "voicemail_ledger"
#: the outcome table whose rows the ledger's submitted entries become (see `SqlLedger.landed_keys`)
VOICEMAILS_TABLE = "voicemails"

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

    def claims(self) -> Set[str]:
        """The review this entry stands for, as identities no other entry may match."""
        if self.status not in SUBMITTED:
            return set()
        return {i for i in (_url_id(self.file_url), _review_id(self.review_id)) if i}


class Ledger(Protocol):
    """Where entries live between runs; `save` must be durable when it returns."""

    def load(self) -> Dict[str, LedgerEntry]: ...

    def save(self, entry: LedgerEntry) -> None: ...


class MemoryLedger:
    """A ledger in a dict: for tests and dry runs."""

    def __init__(self, entries: Iterable[LedgerEntry] = ()) -> None:
        self.entries: Dict[str, LedgerEntry] = {e.key: replace(e) for e in entries}
        self.saves: List[LedgerEntry] = []

    def load(self) -> Dict[str, LedgerEntry]:
        return {k: replace(e) for k, e in self.entries.items()}

    def save(self, entry: LedgerEntry) -> None:
        self.entries[entry.key] = replace(entry)
        self.saves.append(replace(entry))


def _url_id(url: Optional[str]) -> Optional[str]:
    return f"url:{url}" if url else None


def _review_id(rid: Optional[str]) -> Optional[str]:
    return f"id:{rid}" if rid else None


def review_identities(review: Mapping[str, Any]) -> Set[str]:
    file = review.get("file") if isinstance(review.get("file"), dict) else {}
    return {i for i in (_url_id(file.get("url")), _review_id(review.get("_id"))) if i}


def known_clients(entries: Iterable[LedgerEntry]) -> Dict[str, str]:
    """client key (`email:...`) -> clientId, from answers that prove it (never from an uncertain match)."""
    return {
        e.client: e.client_id for e in entries if e.status in (ACCEPTED, RECOVERED) and not e.anonymous and e.client_id
    }


class LedgerBook:
    """The ledger's entries in memory, each save written through at once (and stamped with our clock)."""

    def __init__(self, ledger: Ledger, clock: Callable[[], float]) -> None:
        self.ledger = ledger
        self._clock = clock
        self.entries: Dict[str, LedgerEntry] = {}

    def load(self) -> Dict[str, LedgerEntry]:
        self.entries = self.ledger.load()
        return self.entries

    def save(self, entry: LedgerEntry) -> None:
        entry.updated_at = self._clock()
        self.ledger.save(entry)
        self.entries[entry.key] = entry


# ------------------------------------------------------------------------------------------ in the destination
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
        "sent_at": instant(e.sent_at),
        "ended_at": instant(e.ended_at),
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
        "updated_at": instant(e.updated_at) or datetime.now(timezone.utc),
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


def instant(epoch: Optional[float]) -> Optional[datetime]:
    return datetime.fromtimestamp(epoch, timezone.utc) if epoch is not None else None


def _epoch(value: Any) -> Optional[float]:
    if value is None:
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()
    return float(value)


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
