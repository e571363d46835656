"""`feedback_all`: every vendor's answers in one view, in the Woku dataset, over the tables that exist
(docs/woku.md#feedback_all-every-vendor-in-one-view). DuckDB and Postgres; others get no view."""

from typing import Any, Dict, List, Optional, Set, Tuple

import dlt

from analytics.soft_delete import DELETED_AT

DIALECTS = ("duckdb", "postgres")
VIEW = "feedback_all"

#: Woku survey tables: (table, kind, scale)
_WOKU_SURVEYS = (("nps_responses", "nps", "0-10"), ("csat_responses", "csat", "1-5"), ("ces_responses", "ces", "1-5"))


def datasets(running_vendor: str, running_dataset: str) -> Tuple[str, str]:
    """(wootric dataset, woku dataset): the running pipeline's own, the other from config or its default."""
    wootric = dlt.config.get("feedback_all.wootric_dataset") or "wootric"
    woku = dlt.config.get("feedback_all.woku_dataset") or "woku"
    if running_vendor == "wootric":
        wootric = running_dataset
    else:
        woku = running_dataset
    return wootric, woku


def _qualified(sql: Any, dataset: str) -> Optional[str]:
    """The dataset's qualified name, or None when it does not exist."""
    with sql.with_alternative_dataset_name(dataset):
        return sql.fully_qualified_dataset_name() if sql.has_dataset() else None


def drop_feedback_all(pipeline: Any, woku_dataset: str) -> None:
    """Before a refresh drops tables the view reads (Postgres refuses to drop them otherwise)."""
    if pipeline.destination.destination_name not in DIALECTS:
        return
    with pipeline.sql_client() as sql:
        woku = _qualified(sql, woku_dataset)
        if woku:
            sql.execute_sql(f"DROP VIEW IF EXISTS {woku}.{VIEW}")


def create_feedback_all(pipeline: Any, wootric_dataset: str, woku_dataset: str) -> List[str]:
    """Create or replace the view when the Woku dataset exists; returns `["feedback_all"]` or []."""
    if pipeline.destination.destination_name not in DIALECTS:
        return []
    with pipeline.sql_client() as sql:
        woku = _qualified(sql, woku_dataset)
        if not woku:
            return []
        columns = _columns(sql, {wootric_dataset, woku_dataset})
        parts = _parts(columns, wootric_dataset, _qualified(sql, wootric_dataset) or "", woku_dataset, woku)
        if not parts:
            return []
        # dropped first: Postgres cannot replace a view whose columns change
        sql.execute_sql(f"DROP VIEW IF EXISTS {woku}.{VIEW}")
        sql.execute_sql(f"CREATE OR REPLACE VIEW {woku}.{VIEW} AS\n" + "\nUNION ALL\n".join(parts))
    return [VIEW]


def _parts(columns: Dict[Tuple[str, str], Set[str]], wootric: str, wt: str, woku: str, wk: str) -> List[str]:
    """The SELECT of each loaded table (`wt`, `wk`: the datasets' qualified names)."""
    parts = []
    responses = columns.get((wootric, "responses"), set())
    if {"account", "id", "score", "created_at"} <= responses:
        users = columns.get((wootric, "end_users"), set())
        email = "u.email" if "email" in users else "CAST(NULL AS VARCHAR)"
        join = (
            f" LEFT JOIN {wt}.end_users AS u ON u.account = r.account AND u.id = r.end_user_id"
            f" AND u.{DELETED_AT} IS NULL"
            if users
            else ""
        )
        text = "r.text" if "text" in responses else "CAST(NULL AS VARCHAR)"
        parts.append(
            "SELECT 'wootric' AS vendor, 'nps' AS kind, r.account, CAST(r.id AS VARCHAR) AS response_id,"
            f" r.score, '0-10' AS scale, {text} AS text, r.created_at, {email} AS respondent_email"
            f" FROM {wt}.responses AS r{join} WHERE r.{DELETED_AT} IS NULL"
        )
    for table, kind, scale in _WOKU_SURVEYS:
        have = columns.get((woku, table), set())
        if {"account", "_id", "score", "created_at"} <= have:
            text = _first_text(have, "textnote__description", "voicemail__transcription")
            parts.append(_woku_part(wk, table, kind, scale, "score", text, f" WHERE {DELETED_AT} IS NULL"))
    reviews = columns.get((woku, "woku_reviews"), set())
    if {"account", "_id", "qualification", "created_at"} <= reviews:
        text = _first_text(reviews, "description", "transcription")
        parts.append(_woku_part(wk, "woku_reviews", "woku_review", "1-5", "qualification", text))
    return parts


def _woku_part(ds: str, table: str, kind: str, scale: str, score: str, text: str, where: str = "") -> str:
    """One Woku table's rows (a survey's without those `verify --repair` marked deleted)."""
    return (
        f"SELECT 'woku' AS vendor, '{kind}' AS kind, account, CAST(_id AS VARCHAR) AS response_id,"
        f" CAST({score} AS BIGINT) AS score, '{scale}' AS scale, {text} AS text, created_at,"
        f" CAST(NULL AS VARCHAR) AS respondent_email FROM {ds}.{table}{where}"
    )


def _first_text(have: Set[str], *candidates: str) -> str:
    """The comment: a text note first, else the voice note's transcription (columns dlt created)."""
    present = [c for c in candidates if c in have]
    if not present:
        return "CAST(NULL AS VARCHAR)"
    return present[0] if len(present) == 1 else f"COALESCE({', '.join(present)})"


def _columns(sql: Any, schemas: Set[str]) -> Dict[Tuple[str, str], Set[str]]:
    """Columns by (schema, table): dlt creates a column only once a value arrived for it."""
    rows = sql.execute_sql(
        "SELECT table_schema, table_name, column_name FROM information_schema.columns"
        f" WHERE table_schema IN ({', '.join(_literal(s) for s in sorted(schemas))})"
    )
    out: Dict[Tuple[str, str], Set[str]] = {}
    for schema, table, column in rows:
        out.setdefault((schema, table), set()).add(column)
    return out


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
