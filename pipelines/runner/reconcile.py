"""The warehouse's side of `verify`, through dlt's SQL client: months, counts and ids per account, and
the soft delete. Months are UTC months up to `until`, the start of the UTC day of the newest record
loaded, so records the API received after the last sync are not counted as missing."""

import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

from analytics.soft_delete import DELETED_AT, tables_with_deleted_at
from sources.http_kit import ConfigError
from sources.record_kit.checks import TableCheck

#: the table `verify` appends its figures to (its own pipeline and schema: verify.py)
RECONCILIATION = "reconciliation"
#: [start, end) of one month, UTC (the last one may end before the month does)
Range = Tuple[datetime, datetime]
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
#: ids per UPDATE statement when rows are marked deleted
_CHUNK = 500


def parse_months(text: str) -> Tuple[date, date]:
    """`2024-01..2024-03` or `2024-02`: the first days of the first and last month named."""
    parts = [p.strip() for p in text.split("..")]
    if len(parts) > 2 or not all(_MONTH.match(p) for p in parts):
        raise ConfigError(f"--months: {text!r} is not a month or a span such as 2024-01..2024-03")
    first, last = (_first_day(parts[0]), _first_day(parts[-1]))
    if last < first:
        raise ConfigError(f"--months: {text!r} ends before it starts")
    return first, last


def _first_day(text: str) -> date:
    match = _MONTH.match(text)
    assert match is not None
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        raise ConfigError(f"--months: {text!r} is not a month")
    if not (1, 1) <= (year, month) <= (9999, 11):  # a month is read up to the next one's first day
        raise ConfigError(f"--months: {text!r} is out of range (0001-01 to 9999-11)")
    return date(year, month, 1)


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def month_ranges(first: datetime, until: datetime, months: Optional[Tuple[date, date]] = None) -> List[Range]:
    """Every UTC month from `first`'s to the one holding `until`, each cut at `until`; `months`
    narrows them to the months it names."""
    lo = months[0] if months else date(first.year, first.month, 1)
    hi = _next_month(months[1]) if months else _next_month(until.date())
    out: List[Range] = []
    day = lo
    while day < hi:
        start = _as_utc(day)
        end = min(_as_utc(_next_month(day)), until)
        if start < end:
            out.append((start, end))
        day = _next_month(day)
    return out


def _as_utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)


@dataclass
class Bounds:
    """The oldest creation time of an account's live rows, and `until`."""

    first: datetime
    until: datetime


class Warehouse:
    """The dataset as `verify` reads it; `sql` is an open dlt SQL client of the dataset."""

    def __init__(self, sql: Any, dialect: str) -> None:
        self.sql = sql
        self.dialect = dialect
        self.ds = sql.fully_qualified_dataset_name()
        self._tables = self._existing_tables()
        self.soft_deleted: Set[str] = tables_with_deleted_at(sql, dialect) if self._tables else set()

    def _existing_tables(self) -> Set[str]:
        if not self.sql.has_dataset():
            return set()
        if self.dialect == "bigquery":
            rows = self.sql.execute_sql(f"SELECT table_name FROM {self.ds}.INFORMATION_SCHEMA.TABLES")
        else:
            rows = self.sql.execute_sql(
                "SELECT table_name FROM information_schema.tables"
                f" WHERE table_schema = '{self.sql.dataset_name}' AND table_type = 'BASE TABLE'"
            )
        return {str(r[0]) for r in rows}

    def loaded_schemas(self) -> Set[str]:
        """The dlt schemas with a successful load into the dataset (each account's sync loads its own)."""
        if not self.has("_dlt_loads"):
            return set()
        rows = self.sql.execute_sql(f"SELECT DISTINCT schema_name FROM {self._t('_dlt_loads')} WHERE status = 0")
        return {str(r[0]) for r in rows}

    def has(self, table: str) -> bool:
        return table in self._tables

    def _t(self, table: str) -> str:
        return f"{self.ds}.{self.sql.escape_column_name(table)}"

    def _live(self, table: str) -> str:
        return f" AND {DELETED_AT} IS NULL" if table in self.soft_deleted else ""

    def ts(self, value: datetime) -> str:
        text = value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f+00:00")
        if self.dialect == "bigquery":
            return f"TIMESTAMP('{text}')"
        return f"CAST('{text}' AS TIMESTAMP WITH TIME ZONE)"

    def bounds(self, account: str, checks: Iterable[TableCheck]) -> Optional[Bounds]:
        """The oldest and newest creation time of the account's live rows over the checked tables."""
        firsts, lasts = [], []
        for check in checks:
            if not self.has(check.table):
                continue
            column = self.sql.escape_column_name(check.created_column)
            row = self.sql.execute_sql(
                f"SELECT MIN({column}), MAX({column}) FROM {self._t(check.table)}"
                f" WHERE account = {_literal(account)}{self._live(check.table)}"
            )[0]
            if row[0] is not None:
                firsts.append(utc(row[0]))
                lasts.append(utc(row[1]))
        if not firsts:
            return None
        newest = max(lasts)
        return Bounds(min(firsts), datetime(newest.year, newest.month, newest.day, tzinfo=timezone.utc))

    def measures(self, account: str, check: TableCheck, ranges: Sequence[Range]) -> Dict[Tuple[str, datetime], int]:
        """(measure, range start) -> the warehouse's figure, from live rows created in each range."""
        out: Dict[Tuple[str, datetime], int] = {}
        if not self.has(check.table) or not check.measures:
            for measure in check.measures:
                out.update({(measure, start): 0 for start, _ in ranges})
            return out
        column = self.sql.escape_column_name(check.created_column)
        selects = ", ".join(f"{sql} AS m{i}" for i, sql in enumerate(check.measures.values()))
        for start, end in ranges:
            row = self.sql.execute_sql(
                f"SELECT {selects} FROM {self._t(check.table)} WHERE account = {_literal(account)}"
                f" AND {column} >= {self.ts(start)} AND {column} < {self.ts(end)}{self._live(check.table)}"
            )[0]
            for measure, value in zip(check.measures, row, strict=True):
                out[(measure, start)] = int(value or 0)
        return out

    def ids(self, account: str, check: TableCheck, start: datetime, end: datetime) -> Dict[Any, datetime]:
        """id -> creation time of the account's live rows created in [start, end)."""
        if not self.has(check.table):
            return {}
        ident, column = self.sql.escape_column_name(check.id_column), self.sql.escape_column_name(check.created_column)
        rows = self.sql.execute_sql(
            f"SELECT {ident}, {column} FROM {self._t(check.table)} WHERE account = {_literal(account)}"
            f" AND {column} >= {self.ts(start)} AND {column} < {self.ts(end)}{self._live(check.table)}"
        )
        return {row[0]: utc(row[1]) for row in rows}

    def mark_deleted(self, account: str, check: TableCheck, ids: Iterable[Any], at: datetime) -> int:
        """Set `deleted_at` on these rows (a column the sync declares: accounts.make_source); the rows stay."""
        wanted = sorted(ids, key=str)
        if not wanted:
            return 0
        table = self._t(check.table)
        ident = self.sql.escape_column_name(check.id_column)
        for i in range(0, len(wanted), _CHUNK):
            listed = ", ".join(_literal(v) for v in wanted[i : i + _CHUNK])
            self.sql.execute_sql(
                f"UPDATE {table} SET {DELETED_AT} = {self.ts(at)} WHERE account = {_literal(account)}"
                f" AND {ident} IN ({listed}) AND {DELETED_AT} IS NULL"
            )
        return len(wanted)


def _literal(value: Any) -> str:
    """An id or account as SQL: integers as they are, text quoted (account names and Woku's ids are
    checked plain values; the quote is doubled all the same)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"not an id: {value!r}")
    return str(value) if isinstance(value, int) else "'" + value.replace("'", "''") + "'"


def utc(value: Any) -> Any:
    """A database's or a record's time as an aware UTC datetime; None stays None."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def month_of(value: datetime) -> datetime:
    value = utc(value)
    return datetime(value.year, value.month, 1, tzinfo=timezone.utc)
