"""Months and the warehouse's figures for `verify` (pipelines/runner/reconcile.py), on DuckDB in memory."""

from datetime import date, datetime, timezone

import duckdb
import pytest

from pipelines.runner.reconcile import Warehouse, month_ranges, parse_months
from sources.http_kit import ConfigError
from sources.wootric.checks import TABLES


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def test_parse_months() -> None:
    assert parse_months("2024-01..2024-03") == (date(2024, 1, 1), date(2024, 3, 1))
    assert parse_months("2024-02") == (date(2024, 2, 1), date(2024, 2, 1))
    for bad in ("2024-13", "2024-3", "2024-03..2024-01", "jan", "2024-01..2024-02..2024-03"):
        with pytest.raises(ConfigError, match="--months"):
            parse_months(bad)


@pytest.mark.parametrize("text", ["0000-01", "9999-12", "0000-01..2024-01", "2024-01..9999-12"])
def test_months_no_calendar_holds_are_refused_in_one_line(text: str) -> None:
    with pytest.raises(ConfigError, match="--months: .* is out of range"):
        month_ranges(utc(2024, 1, 5), utc(2024, 2, 1), parse_months(text))


def test_month_ranges_end_at_until_and_follow_months() -> None:
    ranges = month_ranges(utc(2023, 11, 20, 5), utc(2024, 2, 10))
    assert ranges == [
        (utc(2023, 11, 1), utc(2023, 12, 1)),
        (utc(2023, 12, 1), utc(2024, 1, 1)),
        (utc(2024, 1, 1), utc(2024, 2, 1)),
        (utc(2024, 2, 1), utc(2024, 2, 10)),  # the newest day is left to the next check
    ]
    assert month_ranges(utc(2023, 1, 5), utc(2024, 2, 10), (date(2023, 12, 1), date(2024, 3, 1))) == ranges[1:]
    assert month_ranges(utc(2024, 2, 1), utc(2024, 2, 1)) == []  # nothing before the newest day


class _Sql:
    """The bits of dlt's SQL client that Warehouse uses, over a DuckDB connection."""

    dataset_name = "w"

    def __init__(self) -> None:
        self.con = duckdb.connect()
        self.con.execute("CREATE SCHEMA w")

    def fully_qualified_dataset_name(self) -> str:
        return '"w"'

    def escape_column_name(self, name: str) -> str:
        return f'"{name}"'

    def execute_sql(self, sql: str, *args):
        cur = self.con.execute(sql.replace("%s", "?"), args or None)
        return cur.fetchall() if cur.description else None


def test_measures_ids_and_soft_delete() -> None:
    sql = _Sql()
    sql.con.execute(
        "CREATE TABLE w.responses (account VARCHAR, id BIGINT, score BIGINT, excluded_from_calculations BOOLEAN,"
        " created_at TIMESTAMPTZ, deleted_at TIMESTAMPTZ)"
    )
    sql.con.execute(
        "INSERT INTO w.responses (account, id, score, excluded_from_calculations, created_at)"
        " VALUES ('a', 1, 10, false, '2024-01-03 10:00:00+00'), ('a', 2, 3, false,"
        " '2024-01-31 23:59:59+00'), ('a', 3, 8, true, '2024-01-15 00:00:00+00'), ('a', 4, 9, false,"
        " '2024-02-01 00:00:00+00'), ('b', 5, 9, false, '2024-01-10 00:00:00+00')"
    )
    wh = Warehouse(sql, "duckdb")
    check = TABLES["responses"]
    bounds = wh.bounds("a", [check])
    assert bounds is not None and (bounds.first, bounds.until) == (utc(2024, 1, 3, 10), utc(2024, 2, 1))
    january = (utc(2024, 1, 1), utc(2024, 2, 1))
    assert wh.measures("a", check, [january]) == {
        ("responses", january[0]): 2,  # the excluded one is not counted, nor account b's
        ("promoters", january[0]): 1,
        ("passives", january[0]): 0,
        ("detractors", january[0]): 1,
    }
    assert set(wh.ids("a", check, *january)) == {1, 2, 3}
    assert wh.mark_deleted("a", check, [2], utc(2024, 3, 1)) == 1
    assert set(wh.ids("a", check, *january)) == {1, 3}
    assert wh.measures("a", check, [january])[("responses", january[0])] == 1
    assert sql.execute_sql("SELECT id FROM w.responses WHERE deleted_at IS NOT NULL") == [(2,)]  # kept, marked
    assert set(Warehouse(sql, "duckdb").ids("a", check, *january)) == {1, 3}  # still left out by the next check
