"""One reader for write-back input: a UTF-8 CSV file or a table of the destination, as numbered rows.

Both commands read the same way, so a user learns one set of messages: a missing file, a bad header, an
encoding problem or a wrong field count reads the same for `--file` and `--manifest`. A file or header
problem stops the run (ConfigError: nothing was sent); a bad row is kept with its problems, for the
policy to reject and record.
"""

import csv
import re
from typing import Any, List, Mapping, Sequence, Tuple

from sources.http_kit import ConfigError

#: a row as the reader gives it: its 1-based number, its columns, and problems the reader already found
InputRow = Tuple[int, Mapping[str, Any], Sequence[str]]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
SQL_DESTINATIONS = ("duckdb", "postgres")


def read_csv(
    path: str, columns: Sequence[str], label: str, *, skip_empty_fields: bool = False, count_hint: str = ""
) -> List[InputRow]:
    """Rows of a CSV whose header names exactly `columns` (any order, any case; a BOM is ignored).

    Row numbers count data rows from 1: the header is not one, and neither is a blank line. With
    `skip_empty_fields`, a row of empty fields (`,,,`) is skipped too; otherwise it is a row (to reject).
    A row with the wrong number of fields is a row with a problem, not a reason to stop.
    """
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                raise ConfigError(f"{label} is empty; expected the header {','.join(columns)}")
            canonical = {c.lower(): c for c in columns}
            names = [canonical.get(h.strip().lower(), h.strip()) for h in header]
            if sorted(names) != sorted(columns):
                raise ConfigError(
                    f"{label}: the header is {','.join(h.strip() for h in header)[:200]!r};"
                    f" expected exactly {','.join(columns)}"
                )
            rows: List[InputRow] = []
            for fields in reader:
                if _blank(fields, skip_empty_fields):
                    continue
                problems = []
                if len(fields) != len(names):
                    problems.append(f"the row has {len(fields)} fields, expected {len(names)}{count_hint}")
                rows.append((len(rows) + 1, dict(zip(names, fields, strict=False)), problems))
            return rows
    except FileNotFoundError:
        raise ConfigError(f"{label}: no such file") from None
    except IsADirectoryError:
        raise ConfigError(f"{label} is a directory, not a CSV file") from None
    except PermissionError:
        raise ConfigError(f"{label} cannot be read (permission denied)") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{label} is not UTF-8 text") from None
    except csv.Error as exc:
        raise ConfigError(f"{label} is not valid CSV: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{label} cannot be read: {exc.strerror or type(exc).__name__}") from None


def _blank(fields: Sequence[str], skip_empty_fields: bool) -> bool:
    if skip_empty_fields:
        return not any(f.strip() for f in fields)
    return not fields or (len(fields) == 1 and not fields[0].strip())


def parse_table_name(text: str, label: str = "--from-table") -> Tuple[str, str]:
    """SCHEMA.TABLE, each part a plain SQL identifier: it is quoted into a query, so nothing else passes."""
    parts = text.strip().split(".")
    if len(parts) != 2 or not all(_IDENTIFIER.match(p) for p in parts):
        raise ConfigError(
            f"{label}: {text[:100]!r} is not SCHEMA.TABLE"
            " (letters, digits and _, each part starting with a letter or _)"
        )
    return parts[0], parts[1]


def read_table(
    pipeline: Any, destination: str, table: str, columns: Sequence[str], label: str = "--from-table"
) -> List[InputRow]:
    """`columns` of SCHEMA.TABLE through the destination's SQL client, in the table's scan order.

    Values keep their SQL types (the policy turns them into text). Names match case-insensitively, an
    exact match first (PostgreSQL folds unquoted names, a quoted one may differ only in case).
    """
    schema_name, table_name = parse_table_name(table, label)
    if destination not in SQL_DESTINATIONS:
        raise ConfigError(f"{label} reads from {' or '.join(SQL_DESTINATIONS)}, not {destination!r}")
    with pipeline.sql_client() as client:
        with client.execute_query(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns"
            " WHERE lower(table_schema) = lower(%s) AND lower(table_name) = lower(%s)",
            schema_name,
            table_name,
        ) as cursor:
            catalog = cursor.fetchall()
        exact = [c for c in catalog if (c[0], c[1]) == (schema_name, table_name)]
        catalog = exact or catalog
        tables = {(c[0], c[1]) for c in catalog}
        if not tables:
            raise ConfigError(f"{label}: no table or view {schema_name}.{table_name} in the {destination} destination")
        if len(tables) > 1:
            raise ConfigError(f"{label}: {schema_name}.{table_name} matches several tables that differ in case")
        real_schema, real_table = tables.pop()
        by_lower = {c[2].lower(): c[2] for c in catalog}
        missing = [c for c in columns if c.lower() not in by_lower]
        if missing:
            raise ConfigError(f"{label} {schema_name}.{table_name} lacks the column(s) {', '.join(missing)}")
        selected = ", ".join(quote(by_lower[c.lower()]) for c in columns)
        with client.execute_query(f"SELECT {selected} FROM {quote(real_schema)}.{quote(real_table)}") as cursor:
            return [(n, dict(zip(columns, values, strict=True)), ()) for n, values in enumerate(cursor.fetchall(), 1)]


def quote(identifier: str) -> str:
    """A SQL identifier in double quotes (DuckDB and PostgreSQL both read it so)."""
    return '"' + identifier.replace('"', '""') + '"'
