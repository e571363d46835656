"""The analyst views' BigQuery SQL, checked with a BigQuery-dialect parser (no cloud account here)."""

import pytest
import sqlglot
from sqlglot import exp

from analytics import woku_monthly
from analytics.wootric_nps import view_sql

VIEWS = {**view_sql("bigquery", "`project.wootric`"), **woku_monthly.view_sql("bigquery", "`project.woku`")}


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_view_parses_as_bigquery_sql(name: str) -> None:
    statement = sqlglot.parse_one(VIEWS[name], read="bigquery", error_level=sqlglot.ErrorLevel.RAISE)
    assert isinstance(statement, exp.Create) and statement.kind == "VIEW"
    assert statement.this.name == name
    # round trip: what sqlglot writes back for BigQuery parses again
    sqlglot.parse_one(statement.sql(dialect="bigquery"), read="bigquery", error_level=sqlglot.ErrorLevel.RAISE)


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_view_uses_only_functions_bigquery_knows(name: str) -> None:
    """sqlglot's parser is lenient; unknown functions parse as Anonymous and other dialects' syntax
    as its own nodes (the Postgres views fail here on jsonb_each_text and AT TIME ZONE)."""
    tree = sqlglot.parse_one(VIEWS[name], read="bigquery")
    assert [f.name for f in tree.find_all(exp.Anonymous)] == []
    assert list(tree.find_all(exp.AtTimeZone)) == []


def test_the_postgres_dialect_would_fail_that_check() -> None:
    tree = sqlglot.parse_one(view_sql("postgres", "w")["nps_by_segment"], read="bigquery")
    assert {f.name for f in tree.find_all(exp.Anonymous)} == {"jsonb_each_text", "jsonb_typeof"}


def test_bigquery_views_use_bigquery_date_functions() -> None:
    assert "DATE(created_at, 'UTC')" in VIEWS["nps_daily"]
    assert "AT TIME ZONE" not in " ".join(VIEWS.values())
    assert "JSON_KEYS" in VIEWS["nps_by_segment"]
