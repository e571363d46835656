"""Where pipelines load: the destination with this project's defaults, shared by every vendor."""

import contextlib
import os
from typing import Any, Iterator, Optional

import dlt
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

from pipelines.warehouse.postgres import postgres_destination
from sources.http_kit import ConfigError
from sources.http_kit.limits import DEFAULT_MAX_RESPONSE_MB

#: dlt's default for DuckDB (insert_values) peaks at gigabytes on large loads; parquet stays flat
LOADER_FILE_FORMAT = {"duckdb": "parquet"}
#: one embedded warehouse for every vendor (schema per vendor). It must not be named like a
#: dataset: DuckDB names the catalog after the file, and `wootric.responses` would be ambiguous.
DEFAULT_DUCKDB_FILE = "feedback.duckdb"
#: where `--demo` loads (and `report --demo` reads), apart from the real warehouse
DEMO_DUCKDB_FILE = "feedback_demo.duckdb"
#: DuckDB holds one text value about three times while it loads it: the parquet page as read, the
#: page decompressed into a buffer rounded up to a power of two, and the string vector. A 34 MB text
#: needs a 64 MiB buffer on top of the rest, more than a 128 MB cap leaves (Out of Memory, retried
#: on every run). No value is larger than the largest answer the HTTP client accepts
#: (`http.max_response_mb`), so the cap is four times that; it is a ceiling, not a reservation:
#: ordinary loads use no more memory than under 128 MB (docs/performance.md).
DUCKDB_MEMORY_LIMIT_MB = max(128, 4 * int(DEFAULT_MAX_RESPONSE_MB))
#: DuckDB takes 80 % of RAM and every core by default; loading our parquet files needs neither, and
#: small schedulers run out of memory. Override with DESTINATION__DUCKDB__MEMORY_LIMIT / __THREADS
#: (raise the memory limit to 4 x `max_response_mb` when you raise that).
DUCKDB_LIMITS = {"memory_limit": f"{DUCKDB_MEMORY_LIMIT_MB}MB", "threads": 1}


def destination_for(name: str, dataset_name: str, duckdb_file: str = DEFAULT_DUCKDB_FILE) -> Any:
    """The named destination; DuckDB defaults to one file in the working directory, with bounded memory."""
    if name == "postgres":
        return postgres_destination()  # checked now: a missing DSN is named before anything is extracted
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
    return dlt.destinations.duckdb(credentials=DuckDbCredentials(path, global_config=limits))


def duckdb_path(duckdb_file: str = DEFAULT_DUCKDB_FILE) -> Optional[str]:
    """The DuckDB file a run loads into, as `destination_for` chooses it; None for a structured
    credentials section (dlt resolves it)."""
    configured = dlt.secrets.get("destination.duckdb.credentials") or dlt.config.get("destination.duckdb.credentials")
    if configured is not None and not isinstance(configured, str):
        return None
    return os.path.abspath(configured or duckdb_file)


@contextlib.contextmanager
def extract_buffer_settings() -> Iterator[None]:
    """dlt buffers 5,000 items per table before writing; at 2,000 the extract peak was ~10 MB lower
    and at 500 another ~9 MB (W1, 240k records: 310 -> 301 MB), no slower. A value set in
    config.toml or the environment wins; the default is put back after the run, so nothing
    outlives it in this process or reaches a child process."""
    if dlt.config.get("data_writer.buffer_max_items") is not None:
        yield
        return
    os.environ[_BUFFER_ENV] = "500"
    try:
        yield
    finally:
        os.environ.pop(_BUFFER_ENV, None)


_BUFFER_ENV = "DATA_WRITER__BUFFER_MAX_ITEMS"
