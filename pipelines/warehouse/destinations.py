"""Where pipelines load: the destination with this project's defaults, shared by every vendor."""

import contextlib
import os
from typing import Any, Iterator, Optional, Type

import dlt
from dlt.common.configuration import configspec, resolve_configuration
from dlt.common.configuration.exceptions import ConfigFieldMissingException, InvalidNativeValue
from dlt.common.configuration.specs import BaseConfiguration
from dlt.common.destination.client import LoadJob, PreparedTableSchema
from dlt.common.destination.configuration import CsvFormatConfiguration
from dlt.common.storages.file_storage import FileStorage
from dlt.common.storages.load_storage import ParsedLoadJobFileName
from dlt.common.typing import TSecretStrValue
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials
from dlt.destinations.impl.postgres.configuration import PostgresClientConfiguration, PostgresCredentials
from dlt.destinations.impl.postgres.postgres import PostgresClient, PostgresCsvCopyJob

from sources.http_kit import ConfigError

#: dlt's default for DuckDB (insert_values) peaks at gigabytes on large loads; parquet stays flat
LOADER_FILE_FORMAT = {"duckdb": "parquet"}
#: one embedded warehouse for every vendor (schema per vendor). It must not be named like a
#: dataset: DuckDB names the catalog after the file, and `wootric.responses` would be ambiguous.
DEFAULT_DUCKDB_FILE = "feedback.duckdb"
#: where `--demo` loads (and `report --demo` reads), apart from the real warehouse
DEMO_DUCKDB_FILE = "feedback_demo.duckdb"
#: DuckDB takes 80 % of RAM and every core by default; loading our parquet files needs neither, and
#: small schedulers run out of memory. Override with DESTINATION__DUCKDB__MEMORY_LIMIT / __THREADS.
DUCKDB_LIMITS = {"memory_limit": "128MB", "threads": 1}


def destination_for(name: str, dataset_name: str, duckdb_file: str = DEFAULT_DUCKDB_FILE) -> Any:
    """The named destination; DuckDB defaults to one file in the working directory, with bounded memory."""
    if name == "postgres":
        return postgres_destination()
    if name != "duckdb":
        return name
    configured = dlt.secrets.get("destination.duckdb.credentials") or dlt.config.get("destination.duckdb.credentials")
    if configured is not None and not isinstance(configured, str):
        return "duckdb"  # a structured credentials section: dlt resolves it as configured
    path = configured or os.path.abspath(duckdb_file)
    if os.path.splitext(os.path.basename(path))[0] == dataset_name:
        raise ConfigError(
            f"--dataset-name {dataset_name!r} equals the DuckDB file's name ({os.path.basename(path)}); DuckDB would"
            " find the schema ambiguous. Choose another dataset name or file."
        )
    limits = {key: dlt.config.get(f"destination.duckdb.{key}") or default for key, default in DUCKDB_LIMITS.items()}
    return dlt.destinations.duckdb(credentials=DuckDbCredentials(path, global_config=limits))


@contextlib.contextmanager
def extract_buffer_settings() -> Iterator[None]:
    """dlt buffers 5,000 items per table before writing; at 2,000 the extract peak is ~10 MB lower
    and no slower. A value set in config.toml or the environment wins; the default is put back after
    the run, so nothing outlives it in this process or reaches a child process."""
    if dlt.config.get("data_writer.buffer_max_items") is not None:
        yield
        return
    os.environ[_BUFFER_ENV] = "2000"
    try:
        yield
    finally:
        os.environ.pop(_BUFFER_ENV, None)


_BUFFER_ENV = "DATA_WRITER__BUFFER_MAX_ITEMS"


#: the variable docs/wootric.md documents; dlt's own message would name DESTINATION__CREDENTIALS__*
POSTGRES_ENV = "DESTINATION__POSTGRES__CREDENTIALS"


@configspec(init=False)
class PostgresTrustCredentials(PostgresCredentials):
    """dlt's Postgres credentials without a required password: a server with trust (or peer, or
    .pgpass / PGPASSWORD) authentication takes `postgresql://user@host:5432/db`, which dlt refused."""

    password: Optional[TSecretStrValue] = None


@configspec
class PostgresConfiguration(PostgresClientConfiguration):
    credentials: PostgresTrustCredentials = None


@configspec
class PostgresCredentialsOnly(BaseConfiguration):
    """What `postgres_destination` checks early: the credentials, under dlt's own sections."""

    credentials: PostgresTrustCredentials = None


class ArrowCsvCopyJob(PostgresCsvCopyJob):
    """COPY of a csv file that dlt wrote from Arrow tables (the Wootric streams), keeping '' apart from NULL.

    Arrow's writer quotes every string (`""` is an empty string) and leaves a NULL an unquoted empty
    field, which COPY's `NULL ''` alone reads right. dlt's own job adds FORCE_NULL on every nullable
    column (its csv writer for Python rows writes None as `""`), which turns every '' into NULL.
    This project writes csv for Postgres only from Arrow: rows of dicts load as insert_values.
    Other csv settings (no header, unquoted strings) keep dlt's job."""

    def run(self) -> None:
        client = self._job_client
        csv_format = client.config.csv_format or CsvFormatConfiguration()
        if not csv_format.include_header or csv_format.quoting not in ("quote_needed", "quote_all"):
            super().run()
            return
        sql_client = client.sql_client
        sep, encoding = csv_format.delimiter, csv_format.encoding
        with FileStorage.open_zipsafe_ro(self._file_path, "rb") as f:
            header = f.readline().decode(encoding).strip().split(sep)
            columns = ",".join(sql_client.escape_column_name(h.strip('"'), quote=True) for h in header)
            table = sql_client.make_qualified_table_name(self.load_table_name)
            copy_sql = (
                f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT CSV, DELIMITER '{sep}', NULL '',"
                f" ENCODING '{encoding}')"
            )
            with sql_client.begin_transaction(), sql_client.native_connection.cursor() as cursor:
                cursor.copy_expert(copy_sql, f, size=8192)


class FeedbackPostgresClient(PostgresClient):
    """dlt's Postgres client, with csv files loaded by ArrowCsvCopyJob."""

    def create_load_job(
        self, table: PreparedTableSchema, file_path: str, load_id: str, restore: bool = False
    ) -> LoadJob:
        if ParsedLoadJobFileName.parse(file_path).file_format == "csv":
            return ArrowCsvCopyJob(file_path)
        return super().create_load_job(table, file_path, load_id, restore)


class postgres(dlt.destinations.postgres):  # noqa: N801 - dlt names a destination after its factory class
    """dlt's postgres destination with PostgresTrustCredentials and ArrowCsvCopyJob. It keeps dlt's
    destination type, so pipeline state and config sections (`destination.postgres`) stay the same."""

    spec = PostgresConfiguration

    @property
    def destination_type(self) -> str:
        return "dlt.destinations.postgres"

    @property
    def client_class(self) -> Type[PostgresClient]:
        return FeedbackPostgresClient


def postgres_destination() -> Any:
    """The Postgres destination, its credentials checked now (before anything is extracted) so that
    a missing, incomplete or unreadable one is named as the docs name it (never with its value)."""
    example = f"set {POSTGRES_ENV}=postgresql://user:password@host:5432/database (the password may be left out)"
    where = "or credentials under [destination.postgres] in .dlt/secrets.toml"
    try:
        resolve_configuration(PostgresCredentialsOnly(), sections=("destination", "postgres"))
    except ConfigFieldMissingException as exc:
        nested = [getattr(found, "traces", {}) for found in exc.traces.get("credentials", [])]
        missing = sorted({field for traces in nested for field in traces}) or exc.fields
        if {"host", "database", "username"} <= set(missing):
            raise ConfigError(f"missing configuration: {example}, {where}") from None
        raise ConfigError(
            f"missing configuration: the Postgres credentials have no {', '.join(missing)}; {example}, {where}"
        ) from None
    except InvalidNativeValue:
        raise ConfigError(f"{POSTGRES_ENV} is not a connection string: {example}, {where}") from None
    return postgres()
