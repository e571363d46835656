"""One reader for write-back input, a UTF-8 CSV file or a table of the destination, as numbered rows: a file
or header problem stops the run (ConfigError), a bad row is kept with its problems for the command to reject
and record. CSV quoting is strict: read leniently, a stray quote swallows the next lines into one value."""

import csv
import io
import re
from typing import Any, Iterable, List, Mapping, Optional, Sequence, Tuple

from dlt.destinations.exceptions import DatabaseUndefinedRelation

from sources.http_kit import ConfigError

#: a row as the reader gives it: its 1-based number, its columns, and problems the reader already found
InputRow = Tuple[int, Mapping[str, Any], Sequence[str]]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
SQL_DESTINATIONS = ("duckdb", "postgres")
#: control characters a field may not hold: C0 but tab, line feed and carriage return; DEL; C1
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
#: one CSV value: quoted (group 1 is its closing quote, empty when never closed) or not
_VALUE = re.compile(r'"(?:[^"]|"")*("?)|[^,\r\n]*')
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def control_problem(column: str, value: Any) -> Optional[str]:
    """The problem of a field that holds a control character (the first one is named), or None."""
    if not isinstance(value, str):
        return None
    found = CONTROL.search(value)
    if found is None:
        return None
    code = ord(found.group())
    what = "NUL, which cannot be stored" if code == 0 else "which no value holds"
    return f"{column} holds the control character U+{code:04X} ({what}) at character {found.start() + 1}"


def printable(value: Optional[str]) -> Optional[str]:
    """`value` with each control character written as an escape (`\\x00`): safe to store and to print."""
    if value is None:
        return None
    return CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", value)


def shown(text: str, limit: int = 60) -> str:
    """A quoted excerpt of an input value for a message: long garbage stays short."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _with_control_problems(columns: Iterable[str], raw: Mapping[str, Any], problems: List[str]) -> List[str]:
    return problems + [p for p in (control_problem(c, raw.get(c)) for c in columns) if p]


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
            reader = csv.reader(fh, strict=True)
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
            while True:
                first_line = reader.line_num + 1
                try:
                    fields = next(reader, None)
                except csv.Error as exc:
                    why = _quote_error(path, label, first_line) or f"{label} is not valid CSV: {exc}"
                    raise ConfigError(why) from None
                if fields is None:
                    return rows
                if _blank(fields, skip_empty_fields):
                    continue
                problems = []
                if len(fields) != len(names):
                    problems.append(f"the row has {len(fields)} fields, expected {len(names)}{count_hint}")
                raw = dict(zip(names, fields, strict=False))
                rows.append((len(rows) + 1, raw, _with_control_problems(names, raw, problems)))
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


def _quote_error(path: str, label: str, first_line: int) -> Optional[str]:
    """Where the row starting on `first_line` has a quote that does not close properly, or None: csv only
    knows the line where it gave up. Scans the row's values as csv does (a quote opens a value only at its
    start; `""` inside is a quote) to name the line where the quote OPENS."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        text = "".join(line for n, line in enumerate(io.StringIO(fh.read(), newline=""), 1) if n >= first_line)
    pos = 0
    while True:
        value = _VALUE.match(text, pos)
        assert value is not None  # an unquoted value may be empty
        if text.startswith('"', pos):
            opened = first_line + len(_LINE_BREAK.findall(text, 0, pos))
            if not value.group(1):
                return f"{label}: line {opened}: the quote that opens a value here is never closed"
            after = text[value.end() : value.end() + 1]
            if after not in ("", ",", "\r", "\n"):
                closes = first_line + len(_LINE_BREAK.findall(text, 0, value.end()))
                return (
                    f"{label}: line {opened}: the quote that opens a value here closes on line {closes}"
                    f" followed by {after!r}, not by a comma or the end of the line (a quote left open?)"
                )
        if not text.startswith(",", value.end()):
            return None  # the row ended without a quote problem: the error was something else
        pos = value.end() + 1


def _blank(fields: Sequence[str], skip_empty_fields: bool) -> bool:
    if skip_empty_fields:
        return not any(f.strip() for f in fields)
    return not fields or (len(fields) == 1 and not fields[0].strip())


def parse_table_name(text: str) -> Tuple[str, str]:
    """SCHEMA.TABLE, each part a plain SQL identifier: it is quoted into a query, so nothing else passes."""
    parts = text.strip().split(".")
    if len(parts) != 2 or not all(_IDENTIFIER.match(p) for p in parts):
        raise ConfigError(
            f"--from-table: {text[:100]!r} is not SCHEMA.TABLE"
            " (letters, digits and _, each part starting with a letter or _)"
        )
    return parts[0], parts[1]


def read_table(pipeline: Any, destination: str, table: str, columns: Sequence[str]) -> List[InputRow]:
    """`columns` of SCHEMA.TABLE through the destination's SQL client, in the table's scan order.

    Values keep their SQL types (the row checks turn them into text). The name is left unquoted, so the
    destination resolves it as it does any name (PostgreSQL folds it to lower case); columns match in any case.
    """
    label = "--from-table"
    schema_name, table_name = parse_table_name(table)
    if destination not in SQL_DESTINATIONS:
        raise ConfigError(f"{label} reads from {' or '.join(SQL_DESTINATIONS)}, not {destination!r}")
    with pipeline.sql_client() as client:
        try:
            with client.execute_query(f"SELECT * FROM {schema_name}.{table_name}") as cursor:
                names = [d[0].lower() for d in cursor.description]
                missing = [c for c in columns if c.lower() not in names]
                if missing:
                    raise ConfigError(f"{label} {schema_name}.{table_name} lacks the column(s) {', '.join(missing)}")
                at = [names.index(c.lower()) for c in columns]
                rows = [dict(zip(columns, (values[i] for i in at), strict=True)) for values in cursor.fetchall()]
        except DatabaseUndefinedRelation:
            raise ConfigError(
                f"{label}: no table or view {schema_name}.{table_name} in the {destination} destination"
            ) from None
    return [(n, raw, _with_control_problems(columns, raw, [])) for n, raw in enumerate(rows, 1)]
