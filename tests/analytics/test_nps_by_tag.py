"""`nps_by_tag` against a recomputation in Python from the responses themselves: the sandbox's ground
truth end to end on DuckDB and PostgreSQL (BigQuery and Snowflake: tests/pipelines), and the edge
cases (no `tags`, `[]`, two tags, a tag '', a tag twice, deleted, excluded and unscored rows, a month
boundary in UTC) in all four dialects, BigQuery on the emulator and Snowflake on fakesnow."""

import json
import math
import uuid
from datetime import date, datetime, timezone
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Tuple

import duckdb
import psycopg2
import pytest

from analytics.error_bars import nps_error_bar
from analytics.wootric_nps import view_sql
from tests.analytics.test_wootric_nps import warehouse  # noqa: F401  (the fixture: a sandbox account loaded)
from tests.support import bigquery
from tests.support.snowflake import fakesnow_server
from tests.support.warehouse import PG_DSN, drop_postgres_dataset

COLUMNS = (
    "account, month, tag, responses, promoters, passives, detractors, nps,"
    " nps_margin, nps_ci_low, nps_ci_high, small_sample, detractor_pct"
).split(", ")
Key = Tuple[str, date, Optional[str]]


def _nps(promoters: int, detractors: int, responses: int) -> int:
    """100 · (P − D) / N rounded half away from zero, as Wootric rounds."""
    exact = abs(promoters - detractors) * 100 / responses
    return int(math.copysign(math.floor(exact + 0.5), promoters - detractors))


def expected_by_tag(responses: Iterable[Mapping[str, Any]], account: str = "default") -> Dict[Key, Dict[str, Any]]:
    """Each counted response under each distinct tag it carries, or under None when it carries none."""
    counts: Dict[Key, List[int]] = {}
    for r in responses:
        if r.get("excluded_from_calculations") or r["score"] is None or r.get("deleted_at"):
            continue
        month = r["created_at"].astimezone(timezone.utc).date().replace(day=1)
        for tag in sorted(set(r["tags"] or ())) or [None]:
            row = counts.setdefault((account, month, tag), [0, 0, 0, 0])
            score = r["score"]
            row[0] += 1
            row[1 if score >= 9 else 2 if score >= 7 else 3] += 1
    out = {}
    for key, (n, p, pas, d) in counts.items():
        values = {"responses": n, "promoters": p, "passives": pas, "detractors": d, "nps": _nps(p, d, n)}
        values.update(nps_error_bar(p, d, n), detractor_pct=100 * d / n)
        out[key] = {c: _comparable(v) for c, v in values.items()}
    return out


def _comparable(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, datetime):  # DATE_TRUNC of a DATE read back as a timestamp
        return value.date()
    return value


def assert_nps_by_tag(rows: Iterable[Mapping[str, Any]], responses: Iterable[Mapping[str, Any]]) -> None:
    """The view's rows (as dicts) equal the recomputation, key for key and value for value."""
    got: Dict[Key, Dict[str, Any]] = {}
    for row in rows:
        row = {c: _comparable(row[c]) for c in COLUMNS}
        key = (row.pop("account"), row.pop("month"), row.pop("tag"))
        assert key not in got, f"nps_by_tag: two rows for {key}"
        got[key] = row
    want = expected_by_tag(responses)
    assert set(got) == set(want), sorted(set(got) ^ set(want), key=repr)[:5]
    for key, row in want.items():
        assert got[key] == row, key


def test_nps_by_tag_matches_the_accounts_responses(warehouse) -> None:  # noqa: F811
    account, _server, dataset, query = warehouse
    rows = [dict(zip(COLUMNS, r, strict=True)) for r in query(f"SELECT {', '.join(COLUMNS)} FROM {dataset}.nps_by_tag")]
    responses = account.truth("responses")
    assert_nps_by_tag(rows, responses)
    tags = [r["tags"] for r in responses]
    assert sum(len(t) == 2 for t in tags) > 50 and sum(not t for t in tags) > 1000  # both kinds are there
    assert len({r["month"] for r in rows if r["tag"] is None}) >= 4 and len({r["tag"] for r in rows}) == 7


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(timezone.utc)


#: (id, score, tags, excluded, created_at, deleted_at)
EDGE = [
    (1, 10, ["UX", "BUG"], False, "2024-01-31T23:30:00+00:00", None),
    (2, 3, [], False, "2024-01-02T00:00:00+00:00", None),
    (3, 8, None, None, "2024-01-05T00:00:00+00:00", None),  # no tags and no flag: counts, untagged
    (4, 0, [""], False, "2024-01-06T00:00:00+00:00", None),  # '' is a tag as sent, not "untagged"
    (5, 0, ["UX"], True, "2024-01-07T00:00:00+00:00", None),
    (6, 0, ["UX"], False, "2024-01-08T00:00:00+00:00", "2024-03-01T00:00:00+00:00"),
    (7, None, ["UX"], False, "2024-01-09T00:00:00+00:00", None),
    (8, 9, ["UX", "UX"], False, "2024-01-31T23:30:00-05:00", None),  # February in UTC
    (9, 1, [], True, "2024-01-10T00:00:00+00:00", None),
    (10, 1, None, False, "2024-01-11T00:00:00+00:00", "2024-03-01T00:00:00+00:00"),
]
EDGE_RESPONSES = [
    {
        "id": i,
        "score": s,
        "tags": t,
        "excluded_from_calculations": x,
        "created_at": _at(c),
        "deleted_at": d and _at(d),
    }
    for i, s, t, x, c, d in EDGE
]
#: each dialect's (text, integer, boolean, timestamp, JSON type, a JSON text parsed)
_TYPES = {
    "duckdb": ("VARCHAR", "BIGINT", "BOOLEAN", "TIMESTAMPTZ", "JSON", "CAST({} AS JSON)"),
    "postgres": ("TEXT", "BIGINT", "BOOLEAN", "TIMESTAMPTZ", "JSONB", "CAST({} AS JSONB)"),
    "bigquery": ("STRING", "INT64", "BOOL", "TIMESTAMP", "JSON", "PARSE_JSON({})"),
    "snowflake": ("VARCHAR", "BIGINT", "BOOLEAN", "TIMESTAMP_TZ", "VARIANT", "PARSE_JSON({})"),
}


def _edge_sql(dialect: str, ds: str) -> List[str]:
    """The `responses` table holding EDGE, then the view, in the dialect's SQL."""
    text, integer, boolean, timestamp, json_type, parse = _TYPES[dialect]
    types = (text, integer, integer, json_type, boolean, timestamp, timestamp)
    names = ("account", "id", "score", "tags", "excluded_from_calculations", "created_at", "deleted_at")

    def literal(value: Any, type_: str) -> str:
        if value is None:
            return f"CAST(NULL AS {type_})"
        if type_ == json_type:
            return parse.format("'" + json.dumps(value) + "'")
        return f"CAST('{value.isoformat() if isinstance(value, datetime) else value}' AS {type_})"

    selects = [
        "SELECT "
        + ", ".join(literal(v, t) for v, t in zip(("default", *(r[n] for n in names[1:])), types, strict=True))
        for r in EDGE_RESPONSES
    ]
    columns = ", ".join(f"{n} {t}" for n, t in zip(names, types, strict=True))
    return [
        f"CREATE TABLE {ds}.responses ({columns})",
        f"INSERT INTO {ds}.responses " + " UNION ALL ".join(selects),
        view_sql(dialect, ds)["nps_by_tag"],
    ]


@pytest.fixture(params=["duckdb", "postgres", "bigquery", "snowflake"])
def edge_rows(request) -> Iterator[List[Dict[str, Any]]]:
    """EDGE in a fresh schema of each dialect, read back through the view."""
    dialect, ds = request.param, f"tag_{uuid.uuid4().hex[:8]}"
    select = f"SELECT {', '.join(COLUMNS)} FROM {{}}.nps_by_tag"
    if dialect == "duckdb":
        con = duckdb.connect()
        for statement in [f"CREATE SCHEMA {ds}", *_edge_sql(dialect, ds)]:
            con.execute(statement)
        yield [dict(zip(COLUMNS, r, strict=True)) for r in con.execute(select.format(ds)).fetchall()]
    elif dialect == "postgres":
        con = psycopg2.connect(PG_DSN)
        con.autocommit = True
        try:
            with con.cursor() as cur:
                for statement in [f"CREATE SCHEMA {ds}", *_edge_sql(dialect, ds)]:
                    cur.execute(statement)
                cur.execute(select.format(ds))
                yield [dict(zip(COLUMNS, r, strict=True)) for r in cur.fetchall()]
        finally:
            con.close()
            drop_postgres_dataset(ds)
    elif dialect == "bigquery":
        emulator = request.getfixturevalue("bigquery_emulator")
        emulator.client().create_dataset(ds)
        try:
            qualified = f"`{bigquery.PROJECT}.{ds}`"
            for statement in _edge_sql(dialect, qualified):
                emulator.query(statement)
            yield emulator.query(select.format(qualified))
        finally:
            emulator.drop_datasets(ds)
    else:
        with fakesnow_server() as snowflake:
            for statement in [f"CREATE SCHEMA {ds}", *_edge_sql(dialect, ds)]:
                snowflake.query(statement)
            yield [dict(zip(COLUMNS, r, strict=True)) for r in snowflake.query(select.format(ds))]


def test_nps_by_tag_edge_cases(edge_rows: List[Dict[str, Any]]) -> None:
    assert_nps_by_tag(edge_rows, EDGE_RESPONSES)
    counted = {(_comparable(r["month"]).month, r["tag"]): r["responses"] for r in edge_rows}
    # untagged: [] and NULL (ids 2, 3); '' its own tag (4); two tags once each (1); a tag twice once (8)
    assert counted == {(1, None): 2, (1, ""): 1, (1, "BUG"): 1, (1, "UX"): 1, (2, "UX"): 1}
