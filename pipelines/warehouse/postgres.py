"""dlt's PostgreSQL destination as this project needs it: a password that may be left out, strings
that land as sent ('' is not NULL), and credentials checked before anything is extracted."""

from typing import Any, Optional, Type

import dlt
from dlt.common.configuration import configspec, resolve_configuration
from dlt.common.configuration.exceptions import ConfigFieldMissingException, InvalidNativeValue
from dlt.common.configuration.specs import BaseConfiguration
from dlt.common.destination.client import LoadJob, PreparedTableSchema
from dlt.common.destination.configuration import CsvFormatConfiguration
from dlt.common.storages.file_storage import FileStorage
from dlt.common.storages.load_storage import ParsedLoadJobFileName
from dlt.common.typing import TSecretStrValue
from dlt.destinations.impl.postgres.configuration import PostgresClientConfiguration, PostgresCredentials
from dlt.destinations.impl.postgres.postgres import PostgresClient, PostgresCsvCopyJob

from sources.http_kit import ConfigError

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
    """COPY of a csv file that dlt wrote from Arrow tables, keeping '' apart from NULL: Arrow quotes every
    string and leaves NULL an unquoted empty field, but dlt's own job adds FORCE_NULL, turning '' into NULL."""

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
    """dlt's postgres destination with PostgresTrustCredentials and ArrowCsvCopyJob, under dlt's own type."""

    spec = PostgresConfiguration

    @property
    def destination_type(self) -> str:
        return "dlt.destinations.postgres"

    @property
    def client_class(self) -> Type[PostgresClient]:
        return FeedbackPostgresClient


def postgres_destination() -> Any:
    """The Postgres destination, its credentials checked before anything is extracted (named, never shown)."""
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
