"""Pages of Wootric records as Arrow tables of one explicit schema, so dlt loads them without its
row-by-row normalizer. Nested values are JSON columns (keys differ per account); fields we do not
know yet land, as JSON, in `other_fields`."""

import json
import logging
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Sequence, Tuple

import orjson
import pyarrow as pa

from sources.http_kit import SourceError
from sources.record_kit.accounts import ACCOUNT, account_hints

logger = logging.getLogger(__name__)

_TRUE, _FALSE = {"true", "t", "1", "yes"}, {"false", "f", "0", "no"}
#: a whole number as text, as some integrations send ids (`"123"`)
_INTEGER_TEXT = re.compile(r"[+-]?\d{1,20}")


def as_int64(value: Any) -> Any:
    """A numeric string (`"123"`) as the integer it is, when it fits 64 bits; anything else unchanged."""
    if isinstance(value, str) and _INTEGER_TEXT.fullmatch(value.strip()):
        number = int(value)
        if -(2**63) <= number < 2**63:
            return number
    return value


def _as_bool(value: Any) -> Any:
    """`"true"` and `0`/`1` are booleans in all but type; anything else is left for `_coerce`."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    return value


#: resources that yield Arrow tables with JSON columns as text
_ARROW_RESOURCES = ("end_users", "responses", "declines", "responses_history")


class IntendedJsonHints(logging.Filter):
    """dlt warns when a column hint (json) differs from its Arrow type (string): here that is the design.
    The runner puts it on dlt's logger (importing this module changes no logging)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not (
            "when merging arrow schema with dlt schema" in message
            and any(f"In resource: {stream}," in message for stream in _ARROW_RESOURCES)
        )


TIMESTAMP = pa.timestamp("us", tz="UTC")
OTHER = "other_fields"


@dataclass(frozen=True)
class Column:
    name: str
    arrow_type: pa.DataType
    path: Tuple[str, ...]
    json: bool = False


def _col(name: str, arrow_type: pa.DataType, *path: str) -> Column:
    return Column(name, arrow_type, path or (name,))


def _json(name: str, *path: str) -> Column:
    return Column(name, pa.string(), path or (name,), json=True)


COLUMNS: Dict[str, List[Column]] = {
    "end_users": [
        _col("id", pa.int64()),
        _col("email", pa.string()),
        _col("external_id", pa.string()),
        _col("phone_number", pa.string()),
        _col("created_at", TIMESTAMP),
        _col("updated_at", TIMESTAMP),
        _col("last_surveyed", TIMESTAMP),
        _col("last_seen_at", TIMESTAMP),
        _col("external_created_at", TIMESTAMP),
        _json("properties"),
        _json("settings"),
        _json("last_response"),
    ],
    "responses": [
        _col("id", pa.int64()),
        _col("end_user_id", pa.int64()),
        _col("survey_id", pa.int64()),
        _col("score", pa.int64()),
        _col("text", pa.string()),
        _col("completed", pa.bool_()),
        _col("excluded_from_calculations", pa.bool_()),
        _col("ip_address", pa.string()),
        _col("origin_url", pa.string()),
        _col("created_at", TIMESTAMP),
        _col("updated_at", TIMESTAMP),
        _col("survey__channel", pa.string(), "survey", "channel"),
        _json("tags"),
        _json("notes"),
        _json("end_user__properties", "end_user", "properties"),
    ],
    "declines": [
        _col("id", pa.int64()),
        _col("end_user_id", pa.int64()),
        _col("survey_id", pa.int64()),
        _col("ip_address", pa.string()),
        _col("origin_url", pa.string()),
        _col("created_at", TIMESTAMP),
        _col("updated_at", TIMESTAMP),
        _json("end_user__properties", "end_user", "properties"),
    ],
}

_DLT_TYPES = {pa.int64(): "bigint", pa.string(): "text", pa.bool_(): "bool", TIMESTAMP: "timestamp"}


def column_hints(stream: str) -> Dict[str, Dict[str, Any]]:
    """dlt column hints matching the Arrow schema (JSON columns declared as json)."""
    hints = account_hints()
    for col in COLUMNS[stream]:
        hint: Dict[str, Any] = {"data_type": "json" if col.json else _DLT_TYPES[col.arrow_type]}
        if col.arrow_type == TIMESTAMP:
            hint["timezone"] = True
        hints[col.name] = hint
    hints[OTHER] = {"data_type": "json"}
    return hints


def _schema(stream: str) -> pa.Schema:
    fields = [pa.field(c.name, c.arrow_type, nullable=c.name != "id") for c in COLUMNS[stream]]
    return pa.schema([pa.field(ACCOUNT, pa.string()), *fields, pa.field(OTHER, pa.string())])


def _known(columns: List[Column]) -> Dict[str, frozenset]:
    """What each top-level key may hold without spilling into `other_fields`."""
    tops = {c.path[0] for c in columns}
    return {top: frozenset(c.path[1] for c in columns if c.path[0] == top and len(c.path) > 1) for top in tops}


_SCHEMAS = {stream: _schema(stream) for stream in COLUMNS}
_KNOWN = {stream: _known(columns) for stream, columns in COLUMNS.items()}


def _dumps(value: Any) -> Any:
    if value is None:
        return None
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # integers beyond 64 bits, odd types: the standard library writes them all
        return json.dumps(value, default=str, separators=(",", ":"))


#: what pyarrow raises for a value that does not fit a column's type
_UNFIT = (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError)


def _array(values: List[Any], arrow_type: pa.DataType) -> pa.Array:
    """`pa.array`, refusing fractions in an integer column (pyarrow would truncate them silently)."""
    if arrow_type == pa.int64() and any(isinstance(v, float) and not v.is_integer() for v in values):
        raise ValueError("fraction in an integer column")
    return pa.array(values, arrow_type)


def to_table(stream: str, rows: Sequence[Dict[str, Any]], account: str) -> pa.Table:
    """One Arrow table from records whose timestamps are already UTC datetimes."""
    arrays = [pa.array([account] * len(rows), pa.string())]
    spill: List[Dict[str, Any]] = [{} for _ in rows]
    for col in COLUMNS[stream]:
        key = col.path[0]
        if len(col.path) == 1:
            values = [row.get(key) for row in rows]
        else:
            sub = col.path[1]
            values = [row[key].get(sub) if isinstance(row.get(key), dict) else None for row in rows]
        if col.json:
            arrays.append(pa.array([_dumps(v) for v in values], pa.string()))
            continue
        if col.arrow_type == pa.bool_():
            values = [_as_bool(v) for v in values]
        try:
            arrays.append(_array(values, col.arrow_type))
        except _UNFIT:
            arrays.append(pa.array(_coerce(stream, col, values, spill), col.arrow_type))
    known = _KNOWN[stream]
    for i, row in enumerate(rows):
        for key, value in row.items():
            subkeys = known.get(key)
            if subkeys is None:
                spill[i][key] = value
            elif subkeys and isinstance(value, dict) and not value.keys() <= subkeys:
                spill[i][key] = {k: v for k, v in value.items() if k not in subkeys}
            elif subkeys and value is not None and not isinstance(value, dict):
                spill[i][key] = value  # e.g. `survey: "web"` where an object is documented
    arrays.append(pa.array([_dumps(s) if s else None for s in spill], pa.string()))
    return pa.Table.from_arrays(arrays, schema=_SCHEMAS[stream])


def _coerce(stream: str, col: Column, values: List[Any], spill: List[Dict[str, Any]]) -> List[Any]:
    """Slow path for a page with an unexpected value: keep it, as JSON, in `other_fields`."""
    out = []
    for i, value in enumerate(values):
        if col.arrow_type == pa.int64():
            value = as_int64(value)  # `"123"` is the integer 123 (only this slow path pays for the check)
        try:
            _array([value], col.arrow_type)
            out.append(value)
        except _UNFIT:
            if col.name == "id":
                whole = isinstance(value, int) or (isinstance(value, str) and value.strip().lstrip("+-").isdigit())
                problem = "does not fit a 64-bit integer" if whole else "is not an integer"
                raise SourceError(f"{stream}: record id {value!r} {problem}") from None
            logger.warning(
                "%s: %s value %r does not fit %s; kept in %s", stream, col.name, value, col.arrow_type, OTHER
            )
            spill[i][col.name] = value if not hasattr(value, "isoformat") else value.isoformat()
            out.append(None)
    return out
