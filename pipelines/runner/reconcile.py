"""The warehouse's side of `verify`, through dlt's SQL client: months, counts and ids per account, and
the soft delete. Months are UTC months up to `until`, the start of the UTC day of the newest record
loaded, so records the API received after the last sync are not counted as missing."""

import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

from analytics.soft_delete import DELETED_AT
from sources.http_kit import ConfigError
from sources.record_kit.checks import TableCheck
from sources.record_kit.timestamps import to_utc

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
    """The dataset as `verify` reads it; `sql` is an open dlt SQL client of the dataset. Values are
    query parameters (`%s`), which DuckDB, PostgreSQL and BigQuery all take."""

    def __init__(self, sql: Any, dialect: str) -> None:
        self.sql = sql
        self.ds = sql.fully_qualified_dataset_name()
        self._tables = set(base_tables(sql, dialect))

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

    def _live_rows(self, check: TableCheck, *columns: str) -> str:
        """SELECT `columns` over the account's live rows (the sync declares `deleted_at`: accounts.make_source)."""
        return f"SELECT {', '.join(columns)} FROM {self._t(check.table)} WHERE account = %s AND {DELETED_AT} IS NULL"

    def bounds(self, account: str, checks: Iterable[TableCheck]) -> Optional[Bounds]:
        """The oldest and newest creation time of the account's live rows over the checked tables."""
        firsts, lasts = [], []
        for check in [c for c in checks if self.has(c.table)]:
            column = self.sql.escape_column_name(check.created_column)
            row = self.sql.execute_sql(self._live_rows(check, f"MIN({column})", f"MAX({column})"), account)[0]
            if row[0] is not None:
                firsts.append(to_utc(row[0]))
                lasts.append(to_utc(row[1]))
        if not firsts:
            return None
        newest = max(lasts)
        return Bounds(min(firsts), datetime(newest.year, newest.month, newest.day, tzinfo=timezone.utc))

    def measures(self, account: str, check: TableCheck, ranges: Sequence[Range]) -> Dict[Tuple[str, datetime], int]:
        """(measure, range start) -> the warehouse's figure, from live rows created in each range."""
        out = {(measure, start): 0 for measure in check.measures for start, _ in ranges}
        if not self.has(check.table) or not check.measures:
            return out
        column = self.sql.escape_column_name(check.created_column)
        query = self._live_rows(check, *check.measures.values()) + f" AND {column} >= %s AND {column} < %s"
        for start, end in ranges:
            row = self.sql.execute_sql(query, account, start, end)[0]
            for measure, value in zip(check.measures, row, strict=True):
                out[(measure, start)] = int(value or 0)
        return out

    def ids(self, account: str, check: TableCheck, start: datetime, end: datetime) -> Dict[Any, datetime]:
        """id -> creation time of the account's live rows created in [start, end)."""
        if not self.has(check.table):
            return {}
        ident, column = self.sql.escape_column_name(check.id_column), self.sql.escape_column_name(check.created_column)
        query = self._live_rows(check, ident, column) + f" AND {column} >= %s AND {column} < %s"
        return {row[0]: to_utc(row[1]) for row in self.sql.execute_sql(query, account, start, end)}

    def mark_deleted(self, account: str, check: TableCheck, ids: Iterable[Any], at: datetime) -> int:
        """Set `deleted_at` on these rows; the rows stay."""
        wanted = sorted(ids, key=str)
        ident = self.sql.escape_column_name(check.id_column)
        for i in range(0, len(wanted), _CHUNK):
            chunk = wanted[i : i + _CHUNK]
            self.sql.execute_sql(
                f"UPDATE {self._t(check.table)} SET {DELETED_AT} = %s WHERE account = %s"
                f" AND {ident} IN ({', '.join(['%s'] * len(chunk))}) AND {DELETED_AT} IS NULL",
                at,
                account,
                *chunk,
            )
        return len(wanted)


def base_tables(sql: Any, dialect: str) -> Dict[str, List[str]]:
    """The dataset's tables (not views) and their columns; BigQuery keeps INFORMATION_SCHEMA per dataset."""
    info = f"{sql.fully_qualified_dataset_name()}.INFORMATION_SCHEMA" if dialect == "bigquery" else "information_schema"
    rows = sql.execute_sql(
        f"SELECT c.table_name, c.column_name FROM {info}.columns c JOIN {info}.tables t"
        " ON t.table_schema = c.table_schema AND t.table_name = c.table_name"
        " WHERE c.table_schema = %s AND t.table_type = 'BASE TABLE'",
        sql.dataset_name,
    )
    columns: Dict[str, List[str]] = {}
    for table, column in rows:
        columns.setdefault(str(table), []).append(str(column))
    return columns


def month_of(value: datetime) -> datetime:
    value = to_utc(value)
    return datetime(value.year, value.month, 1, tzinfo=timezone.utc)
