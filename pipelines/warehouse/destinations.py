"""Where pipelines load: the destination with this project's defaults, shared by every vendor."""

import os
from typing import Any, Optional

import dlt
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

from pipelines.warehouse.bigquery import bigquery_destination
from pipelines.warehouse.postgres import postgres_destination
from sources.http_kit import ConfigError

#: dlt's default for DuckDB (insert_values) peaks at gigabytes on large loads; parquet stays flat.
#: dlt's BigQuery loader takes JSON columns only from jsonl (it refuses parquet with one).
LOADER_FILE_FORMAT = {"duckdb": "parquet", "bigquery": "jsonl"}
#: one embedded warehouse for every vendor (schema per vendor). It must not be named like a
#: dataset: DuckDB names the catalog after the file, and `wootric.responses` would be ambiguous.
DEFAULT_DUCKDB_FILE = "feedback.duckdb"
#: where `--demo` loads (and `report --demo` reads), apart from the real warehouse
DEMO_DUCKDB_FILE = "feedback_demo.duckdb"
#: DuckDB takes 80 % of RAM and every core by default; loading our parquet files needs neither, and
#: small schedulers run out of memory. DuckDB holds a text value about three times while loading it:
#: 256 MB fits the largest answer the HTTP client accepts (`max_response_mb`). Loads into the one file go
#: one job at a time (`sequential`), which keeps peak memory flat. Override with
#: DESTINATION__DUCKDB__MEMORY_LIMIT / __THREADS.
DUCKDB_LIMITS = {"memory_limit": "256MB", "threads": 1}
#: where `status` and `verify` read: their SQL knows these dialects' names and types (docs/warehouses.md)
READABLE = ("duckdb", "postgres", "bigquery")


def destination_for(
    name: str, dataset_name: str, duckdb_file: str = DEFAULT_DUCKDB_FILE, account: Optional[str] = None
) -> Any:
    """The named destination; DuckDB defaults to one file in the working directory, with bounded memory.
    On BigQuery, an account's loads merge through a staging dataset of its own (bigquery.py)."""
    if name == "postgres":
        return postgres_destination()  # checked now: a missing DSN is named before anything is extracted
    if name == "bigquery":
        return bigquery_destination(account)
    if name == "snowflake":
        # the path fakesnow (the tests' Snowflake) can carry, so that Snowflake runs what the tests prove:
        # one statement per request (a few more round trips in schema changes and merges), and parquet
        # for every table, dlt's own included (fakesnow's COPY matches JSON files to no columns)
        return dlt.destinations.snowflake(supports_multiple_statements=False, preferred_loader_file_format="parquet")
    if name == "filesystem":
        # the lake: Parquet for every table, which DuckDB reads without an extension (lake.py)
        return dlt.destinations.filesystem(preferred_loader_file_format="parquet")
    if name != "duckdb":
        return name
    path = duckdb_path(duckdb_file)
    if path is None:
        return "duckdb"  # a structured credentials section: dlt resolves it as configured
    if os.path.splitext(os.path.basename(path))[0] == dataset_name:
        raise ConfigError(
            f"--dataset-name {dataset_name!r} equals the DuckDB file's name ({os.path.basename(path)}); DuckDB would"
            " find the schema ambiguous. Choose another dataset name or file."
        )
    limits = {key: dlt.config.get(f"destination.duckdb.{key}") or default for key, default in DUCKDB_LIMITS.items()}
    return dlt.destinations.duckdb(
        credentials=DuckDbCredentials(path, global_config=limits), loader_parallelism_strategy="sequential"
    )


def duckdb_path(duckdb_file: str = DEFAULT_DUCKDB_FILE) -> Optional[str]:
    """The DuckDB file a run loads into, as `destination_for` chooses it; None for a structured
    credentials section (dlt resolves it)."""
    configured = dlt.secrets.get("destination.duckdb.credentials") or dlt.config.get("destination.duckdb.credentials")
    if configured is not None and not isinstance(configured, str):
        return None
    return os.path.abspath(configured or duckdb_file)


def default_writer_buffer() -> None:
    """500 items per table before dlt writes (its default 5,000 cost ~19 MB of peak RSS on W1, no faster),
    unless configured; set once in dlt's config, never removed, so no run beside another loses it."""
    if dlt.config.get("data_writer.buffer_max_items") is None:
        dlt.config["data_writer.buffer_max_items"] = 500


def existing_dataset(destination: str, dataset_name: str, duckdb_file: str = DEFAULT_DUCKDB_FILE) -> Optional[Any]:
    """The dataset as dlt reads it (`with dataset.sql_client as sql:`), or None when it was never loaded,
    for `status` and `verify`; no DuckDB file is created where there is none."""
    if destination not in READABLE:
        raise ConfigError(
            f"--destination {destination}: status and verify read {', '.join(READABLE)} datasets only"
            " (docs/warehouses.md)"
        )
    target = destination_for(destination, dataset_name, duckdb_file)
    database = getattr(getattr(target, "config_params", {}).get("credentials"), "database", None)
    if isinstance(database, str) and not os.path.exists(database):
        return None
    # a schema of its own: dlt would otherwise look for the newest one in the destination
    dataset = dlt.dataset(target, dataset_name, schema=dlt.Schema(dataset_name))
    with dataset.sql_client as sql:
        return dataset if sql.has_dataset() else None
