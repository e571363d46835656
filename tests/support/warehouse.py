"""Reads what a pipeline landed and compares it with the sandbox's ground truth, field by field."""

import json
from collections import Counter
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Optional

import duckdb
import psycopg2

from tests.support.postgres import session_dsn

#: the configured server, or a throwaway one started for this run (tests/support/postgres.py)
PG_DSN = session_dsn()

#: columns compared per table: (landed column, truth key); timestamps compared as instants
FIELDS: Dict[str, List[str]] = {
    "end_users": [
        "id",
        "email",
        "external_id",
        "phone_number",
        "created_at",
        "updated_at",
        "last_surveyed",
        "last_seen_at",
        "external_created_at",
    ],
    "responses": [
        "id",
        "end_user_id",
        "survey_id",
        "score",
        "text",
        "completed",
        "excluded_from_calculations",
        "ip_address",
        "origin_url",
        "created_at",
        "updated_at",
    ],
    "declines": ["id", "end_user_id", "survey_id", "ip_address", "origin_url", "created_at", "updated_at"],
}
TIMESTAMPS = {"created_at", "updated_at", "last_surveyed", "last_seen_at", "external_created_at"}


def read_duckdb(path: str, dataset: str, table: str) -> List[Dict[str, Any]]:
    with duckdb.connect(str(path), read_only=True) as con:
        cur = con.execute(f'SELECT * FROM "{dataset}"."{table}"')
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def read_postgres(dataset: str, table: str) -> List[Dict[str, Any]]:
    with psycopg2.connect(PG_DSN) as con, con.cursor() as cur:
        cur.execute(f'SELECT * FROM "{dataset}"."{table}"')
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def drop_postgres_dataset(dataset: str) -> None:
    con = psycopg2.connect(PG_DSN)
    con.autocommit = True
    with con.cursor() as cur:
        for schema in (dataset, f"{dataset}_staging"):
            cur.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    con.close()


def _instant(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, timezone.utc)
    if isinstance(value, datetime):
        assert value.tzinfo is not None, f"naive timestamp landed: {value!r}"
        return value.astimezone(timezone.utc)
    raise AssertionError(f"not a timestamp: {value!r}")


def assert_exact(
    table: str, truth: Iterable[Dict[str, Any]], landed: List[Dict[str, Any]], account: Optional[str] = None
) -> None:
    """Zero lost, zero duplicated, every compared field equal (timestamps as UTC instants, '' apart from NULL).

    With `account`, only that account's rows are compared (the others are another account's truth)."""
    if account is not None:
        landed = [row for row in landed if row["account"] == account]
    ids = Counter(row["id"] for row in landed)
    dupes = {i: n for i, n in ids.items() if n > 1}
    assert not dupes, f"{table}: {len(dupes)} ids landed more than once, e.g. {list(dupes)[:5]}"
    expected = {rec["id"]: rec for rec in truth}
    missing = sorted(set(expected) - set(ids))
    extra = sorted(set(ids) - set(expected))
    assert not missing, f"{table}: {len(missing)} of {len(expected)} records missing, e.g. {missing[:10]}"
    assert not extra, f"{table}: {len(extra)} records that the account does not hold, e.g. {extra[:10]}"
    for row in landed:
        want = expected[row["id"]]
        for field in FIELDS[table]:
            got, exp = row.get(field), want.get(field)
            if field in TIMESTAMPS:
                got, exp = _instant(got), _instant(exp)
            # strict: '' stays '' and NULL stays NULL on every destination (Postgres used to turn '' into NULL)
            assert got == exp, f"{table} id={row['id']} {field}: landed {got!r}, account holds {exp!r}"


def json_value(value: Any) -> Any:
    """A JSON column as Python: DuckDB returns text, psycopg2 returns the decoded value."""
    return json.loads(value) if isinstance(value, str) else value
