"""A Parquet lake (dlt's `filesystem` destination on a local folder), read through a DuckDB catalog file.

dlt cannot merge on plain Parquet files (a merge appends), so the catalog holds a view per table that
keeps what the merge would have kept, and the analyst views on top (docs/warehouses.md). The views
read the files through globs with DuckDB's built-in reader: later loads count as soon as written.
"""

import logging
import os
from typing import Any, Dict, List, Optional

import dlt
from dlt.common.schema.utils import get_columns_names_with_prop, get_first_column_name_with_prop
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials
from dlt.destinations.impl.duckdb.sql_client import DuckDbSqlClient

#: the catalog of the lake, beside the working directory's feedback.duckdb
LAKE_CATALOG = "feedback_lake.duckdb"
FILE = "_lake_file"


class MergeFallbacks(logging.Filter):
    """dlt warns per table and run that a merge falls back to append and its dedup_sort is ignored: on
    the lake that is the design (the catalog keeps what the merge would). Put on dlt's logger for it only."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not (message.startswith("Falling back to `append`") or '"dedup_sort" column hint' in message)


class LakeCatalog:
    """The catalog as the view machinery sees a pipeline: a DuckDB destination, the lake pipeline's schema."""

    def __init__(self, pipeline: Any, path: str) -> None:
        self.path = path
        self.destination = dlt.destinations.duckdb(credentials=path)
        self.dataset_name = pipeline.dataset_name
        self.default_schema_name = pipeline.default_schema_name
        self.default_schema = pipeline.default_schema if pipeline.default_schema_name else None

    def sql_client(self) -> DuckDbSqlClient:
        return catalog_client(self.dataset_name, self.path)


def catalog_client(dataset_name: str, path: str = LAKE_CATALOG) -> DuckDbSqlClient:
    """A DuckDB SQL client on the catalog (dlt's own), for the views of one dataset."""
    credentials = DuckDbCredentials(os.path.abspath(path))
    credentials.resolve()
    return DuckDbSqlClient(dataset_name, None, credentials, dlt.destinations.duckdb().capabilities())


def local_dataset_folder(pipeline: Any) -> Optional[str]:
    """The dataset's folder when the pipeline loads into a local filesystem bucket, else None."""
    if pipeline.destination is None or pipeline.destination.destination_name != "filesystem":
        return None
    with pipeline.destination_client() as client:
        if client.config.protocol != "file":
            return None
        return str(client.dataset_path)


def lake_catalog(pipeline: Any, path: str = LAKE_CATALOG) -> Optional[LakeCatalog]:
    """(Re)create the table views of the pipeline's dataset in the catalog; None when it is not a local lake."""
    folder = local_dataset_folder(pipeline)
    if folder is None or not pipeline.default_schema_name:
        return None
    catalog = LakeCatalog(pipeline, os.path.abspath(path))
    schema = pipeline.default_schema
    with catalog.sql_client() as sql:
        if not sql.has_dataset():
            sql.create_dataset()
        ds = sql.fully_qualified_dataset_name()
        for name, select in table_views(schema, folder, ds).items():
            sql.execute_sql(f"CREATE OR REPLACE VIEW {ds}.{sql.escape_column_name(name)} AS {select}")
    return catalog


def table_views(schema: Any, folder: str, ds: str) -> Dict[str, str]:
    """SELECT of each data table with Parquet files in the folder, keeping what dlt's merge keeps
    (`ds`: the catalog schema of the views, where a child table finds its parent's)."""
    views: Dict[str, str] = {}
    for table in schema.data_tables():
        files = os.path.join(folder, table["name"])
        if os.path.isdir(files) and any(f.endswith(".parquet") for f in os.listdir(files)):
            views[table["name"]] = _kept_rows(table, files, ds)
    return views


def _kept_rows(table: Any, files: str, ds: str) -> str:
    source = f"read_parquet({_literal(os.path.join(files, '*.parquet'))}, union_by_name = true, filename = {FILE!r})"
    load = f"regexp_extract({FILE}, '([0-9]+[.][0-9]+)[.][^/]*$', 1)"  # `<load id>.<file id>.parquet`
    parent = table.get("parent")
    if parent:
        kept = f"SELECT _dlt_id FROM {ds}.{_quoted([parent])}"
        return f"SELECT * EXCLUDE ({FILE}) FROM {source} WHERE _dlt_parent_id IN ({kept})"
    if table.get("write_disposition") != "merge" or table.get("x-merge-strategy") == "scd2":
        return f"SELECT * EXCLUDE ({FILE}) FROM {source}"
    keys = _quoted(get_columns_names_with_prop(table, "primary_key"))
    merge_keys = _quoted(get_columns_names_with_prop(table, "merge_key"))
    rows = f"SELECT *, {load} AS _lake_load FROM {source}"
    if merge_keys:  # delete-insert on the merge key: each key's newest load replaces its rows
        rows = f"SELECT * FROM ({rows}) QUALIFY _lake_load = MAX(_lake_load) OVER (PARTITION BY {merge_keys})"
    if not keys:
        return f"SELECT * EXCLUDE ({FILE}, _lake_load) FROM ({rows})"
    sort = get_first_column_name_with_prop(table, "dedup_sort")
    order = "_lake_load DESC" + (f", {_quoted([sort])} {_sort_direction(table, sort)}" if sort else "")
    return (
        f"SELECT * EXCLUDE ({FILE}, _lake_load) FROM ({rows})"
        f" QUALIFY ROW_NUMBER() OVER (PARTITION BY {keys} ORDER BY {order}) = 1"
    )


def _sort_direction(table: Any, column: str) -> str:
    return "ASC" if table["columns"][column].get("dedup_sort") == "asc" else "DESC"


def _quoted(names: List[str]) -> str:
    return ", ".join('"' + n.replace('"', '""') + '"' for n in names)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
