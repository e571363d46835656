"""Woku records as the warehouse should hold them: UTC datetimes, the account they came from, a depth
dlt can load; and each version of a response for `<survey>_responses_history`."""

from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Mapping, Optional

from sources.http_kit import ApiError, SourceError
from sources.record_kit.accounts import ACCOUNT
from sources.record_kit.answers import describe, require_key
from sources.record_kit.history import RECORD_KEY, VERSION_HASH, history_hints, record_key, version_hash
from sources.record_kit.timestamps import convert_fields
from sources.woku.settings import TIMESTAMP_FIELDS

#: `2024-03-05T14:07:09.123Z` (JavaScript's toISOString) or any ISO 8601 instant; naive means UTC

#: what identifies a record that lacks its `_id` (ids and timestamps, never a client's contact)
_CLUES = ("createdAt", "wokuId", "formId", "flowId", "npsToolId", "csatToolId", "cesToolId", "entityId")
#: levels of nested objects and lists a record may have; real records have fewer than 6. dlt's JSON
#: writer (orjson) gives up at 255 with a bare `TypeError: Recursion limit reached`, and well before
#: that (about 35 levels) a nested table's name no longer fits a file name
MAX_NESTING = 16


def iso(value: datetime) -> str:
    """What JavaScript's Date parses: UTC with milliseconds."""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def tagged(
    records: Iterable[Dict[str, Any]], account: str, what: str, cursor: Optional[str] = None
) -> List[Dict[str, Any]]:
    """Records with UTC datetimes and the account first (an `account` field from the API is kept aside as
    `api_account`). A record without `_id` (the merge key), or with `cursor` but without that timestamp
    (the incremental state could not place it), stops the run in one line naming it."""
    out = []
    for position, record in enumerate(records, 1):
        require_id(record, what, position)
        check_nesting(record, what, position)  # dlt's writer would fail on it in a traceback
        # an unreadable createdAt stops the run; any other timestamp is kept as text
        convert_fields(record, TIMESTAMP_FIELDS, "createdAt", what=what, id_key="_id")
        if cursor is not None and not isinstance(record.get(cursor), datetime):
            raise SourceError(f"{what} {record.get('_id')!r}: no {cursor}")
        if ACCOUNT in record:
            record["api_account"] = record.pop(ACCOUNT)
        # a null object (`textnote: null`) would make dlt warn on every load that it cannot type it;
        # an absent key lands as NULL all the same
        out.append({ACCOUNT: account, **{k: v for k, v in record.items() if v is not None}})
    return out


def require_id(record: Any, what: str, position: int) -> Any:
    """The record, if it has its `_id`: without it dlt would fail the load on the non-null merge key,
    in a traceback, and keep the broken package for every later run."""
    return require_key(record, "_id", what, position, _CLUES)


def check_nesting(record: Mapping[str, Any], what: str, position: int) -> None:
    """A record nested deeper than MAX_NESTING (yet decodable) stops the run in one line naming it."""
    stack = [(value, 2) for value in record.values() if isinstance(value, (dict, list))]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_NESTING:
            seen = describe(record, _CLUES)
            raise ApiError(
                f"{what}: the record at position {position} of its page{f' ({seen})' if seen else ''} nests JSON"
                f" more than {MAX_NESTING} levels deep; the API sent a malformed record. Leave this resource out"
                " with --resources until it is fixed"
            )
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))


def history_name(kind: str) -> str:
    """`nps` -> `nps_responses_history`, beside `nps_responses`."""
    return f"{kind}_responses_history"


def history_rows(rows: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """One version row per tagged response: the score and the text note, keyed by account and `_id`."""
    out = []
    for row in rows:
        note = row.get("textnote")
        text = note.get("description") if isinstance(note, dict) else None
        key = record_key(row[ACCOUNT], row["_id"])
        out.append(
            {
                ACCOUNT: row[ACCOUNT],
                "_id": row["_id"],
                "score": row.get("score"),
                "textnote__description": text,
                "updated_at": row.get("updatedAt"),
                RECORD_KEY: key,
                VERSION_HASH: version_hash(key, [row.get("score"), text]),
            }
        )
    return out


def history_columns() -> Dict[str, Dict[str, Any]]:
    """Typed even when every note of the first page is empty (dlt would leave the column out)."""
    return {
        **history_hints(),
        "_id": {"data_type": "text", "nullable": False},
        "score": {"data_type": "bigint"},
        "textnote__description": {"data_type": "text"},
        "updated_at": {"data_type": "timestamp", "timezone": True},
    }
