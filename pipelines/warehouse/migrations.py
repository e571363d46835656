"""Upgrades of datasets loaded by older versions, each applied once per dataset and recorded.

The record is a small table in the dataset (`_feedback_migrations`); a dataset that has it with a
migration's name is never probed for that migration again.
"""

import logging
from typing import Any, Dict, Optional, Set, Tuple

from sources.http_kit import ConfigError

logger = logging.getLogger(__name__)

RECORD_TABLE = "_feedback_migrations"
ACCOUNT_COLUMN = "account_column"
#: destinations whose SQL these upgrades speak; BigQuery datasets were created with the column
SQL_DESTINATIONS = ("duckdb", "postgres")


def upgrade_dataset(pipeline: Any, tables: Tuple[str, ...], account: Optional[str], vendor: str) -> None:
    """Bring an existing dataset up to date before a run loads into it."""
    if not tables or pipeline.destination.destination_name not in SQL_DESTINATIONS:
        return
    with pipeline.sql_client() as sql:
        if not sql.has_dataset():
            return  # a new dataset is current once loaded; the record is written on the next run
        ds = sql.fully_qualified_dataset_name()
        sql.execute_sql(f"CREATE TABLE IF NOT EXISTS {ds}.{RECORD_TABLE} (name VARCHAR, applied_at TIMESTAMP)")
        done = {row[0] for row in sql.execute_sql(f"SELECT name FROM {ds}.{RECORD_TABLE}")}
        if ACCOUNT_COLUMN in done:
            return
        add_account_column(sql, tables, account, vendor, pipeline.dataset_name)
        sql.execute_sql(f"INSERT INTO {ds}.{RECORD_TABLE} VALUES (%s, CURRENT_TIMESTAMP)", ACCOUNT_COLUMN)


def add_account_column(sql: Any, tables: Tuple[str, ...], account: Optional[str], vendor: str, dataset: str) -> None:
    """Add `account` to tables loaded before it existed and name the account of their rows, so merge
    on (account, id) finds them instead of loading them again."""
    found: Dict[str, Set[str]] = {}
    for table, column in sql.execute_sql(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = %s", sql.dataset_name
    ):
        found.setdefault(table, set()).add(column)
    legacy = [t for t in tables if t in found and "account" not in found[t]]
    if not legacy:
        return
    if account is None:
        raise ConfigError(
            f"dataset {dataset!r} was loaded before accounts existed: run it once with the one account it holds"
            f" (sources.{vendor}.account), then add the others, or run --full-refresh"
        )
    ds = sql.fully_qualified_dataset_name()
    for table in legacy:
        sql.execute_sql(f"ALTER TABLE {ds}.{table} ADD COLUMN account VARCHAR")
        sql.execute_sql(f"UPDATE {ds}.{table} SET account = %s", account)
    child = "survey_templates__languages"
    if child in found and "_dlt_root_id" not in found[child]:
        # survey_templates was `replace` then: merge needs the root key in its child table
        sql.execute_sql(f"ALTER TABLE {ds}.{child} ADD COLUMN _dlt_root_id VARCHAR")
        sql.execute_sql(f"UPDATE {ds}.{child} SET _dlt_root_id = _dlt_parent_id")
    logger.warning("dataset %s: added the account column (%r) to %s", dataset, account, legacy)
