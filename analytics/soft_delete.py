"""Rows `verify --repair` found gone from the API keep their place with `deleted_at` set; the
analyst views leave them out. The sync declares the column on every table `verify` checks."""

from typing import Any, Set

DELETED_AT = "deleted_at"


def tables_with_deleted_at(sql: Any, dialect: str) -> Set[str]:
    """Tables of the client's dataset that have the column."""
    if dialect == "bigquery":
        query = (
            f"SELECT table_name FROM {sql.fully_qualified_dataset_name()}.INFORMATION_SCHEMA.COLUMNS"
            f" WHERE column_name = '{DELETED_AT}'"
        )
    else:
        fold = str.upper if dialect == "snowflake" else str  # Snowflake folds names to upper case
        query = (
            "SELECT table_name FROM information_schema.columns"
            f" WHERE table_schema = '{fold(sql.dataset_name)}' AND column_name = '{fold(DELETED_AT)}'"
        )
    return {str(row[0]).lower() for row in sql.execute_sql(query)}
