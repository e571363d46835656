"""Snowflake for the tests: fakesnow's server (Snowflake's REST API on DuckDB) on loopback, in this process.

The pipeline runs as a user runs it, in a subprocess with the real snowflake connector, pointed at the
server through its connection string. Three spellings that Snowflake accepts and dlt writes are not
parsed by fakesnow 0.12; `_snowflake_spellings` rewrites them to the equivalent spelling fakesnow
parses, and nothing else (docs/warehouses.md):

- `PUT 'file://…' '@"SCHEMA"."%TABLE"/"load id"'`: the stage as a quoted literal (fakesnow: unquoted only);
- `FILE_FORMAT = (TYPE = 'PARQUET', USE_LOGICAL_TYPE = TRUE)`: options separated by commas (spaces only);
- `MATCH_BY_COLUMN_NAME='CASE_INSENSITIVE'`: the value quoted (unquoted only).
"""

import contextlib
import re
import sys
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List

import fakesnow
import snowflake.connector
from fakesnow.cursor import FakeSnowflakeCursor

#: the function: the first start imports the module `fakesnow.server`, which then takes its name
_start_server = fakesnow.server
DATABASE = "feedback"
_PUT_STAGE = re.compile(r"^(\s*PUT\s+'[^']*'\s+)'(@[^']*)'", re.IGNORECASE)
_MATCH_BY = re.compile(r"MATCH_BY_COLUMN_NAME\s*=\s*'(\w+)'", re.IGNORECASE)
_FILE_FORMAT = re.compile(r"FILE_FORMAT\s*=\s*\([^)]*\)", re.IGNORECASE)


def _snowflake_spellings(command: str) -> str:
    command = _PUT_STAGE.sub(r"\1\2", command)
    command = _MATCH_BY.sub(r"MATCH_BY_COLUMN_NAME=\1", command)
    return _FILE_FORMAT.sub(lambda m: m.group(0).replace(",", " "), command)


@contextlib.contextmanager
def _spellings_rewritten() -> Iterator[None]:
    execute = FakeSnowflakeCursor.execute

    def rewritten(self: Any, command: str, *args: Any, **kwargs: Any) -> Any:
        return execute(self, _snowflake_spellings(command), *args, **kwargs)

    FakeSnowflakeCursor.execute = rewritten  # type: ignore[method-assign]
    try:
        yield
    finally:
        FakeSnowflakeCursor.execute = execute  # type: ignore[method-assign]


@dataclass
class Fakesnow:
    """A running server: the CLI's environment, and SQL on its database."""

    env: Dict[str, str]
    con: Any

    def query(self, sql: str) -> List[tuple]:
        with self.con.cursor() as cur:
            return cur.execute(sql).fetchall()

    def read(self, dataset: str, table: str) -> List[Dict[str, Any]]:
        """Every row of a table as stored, with dlt's (lower-case) names (Snowflake folds them to upper
        case). Read from fakesnow's DuckDB, not through the server: fakesnow 0.12's server sends a NULL
        TIMESTAMP_LTZ as 1970-01-01 (the stored value is NULL)."""
        cur = sys.modules["fakesnow.server"].shared_fs.duck_conn.cursor()
        try:
            cur.execute(f'SELECT * FROM {DATABASE.upper()}."{dataset.upper()}"."{table.upper()}"')
            names = [d[0].lower() for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        finally:
            cur.close()


@contextlib.contextmanager
def fakesnow_server() -> Iterator[Fakesnow]:
    """A fakesnow server on 127.0.0.1, stopped after. Its in-memory databases outlive it in this process
    (fakesnow keeps one per process): each test loads a dataset of its own."""
    with _spellings_rewritten(), _start_server(host="127.0.0.1") as params:
        env = {
            "DESTINATION__SNOWFLAKE__CREDENTIALS": f"snowflake://fake:snow@fakesnow/{DATABASE}"
            f"?host=127.0.0.1&port={params['port']}&protocol=http",
            # the connector probes cloud metadata endpoints (169.254.169.254, ...) at login otherwise
            "SNOWFLAKE_DISABLE_PLATFORM_DETECTION": "true",
        }
        con = snowflake.connector.connect(**params, database=DATABASE)
        try:
            yield Fakesnow(env, con)
        finally:
            con.close()
