"""What a record must give before it is loaded: the key it is merged on, and a depth dlt can load.
One that breaks either stops the run in one line naming it (retrying cannot fix the API's answer)."""

from datetime import datetime
from typing import Any, Mapping, Optional, Sequence

from sources.http_kit import ApiError

#: levels of nested objects and lists a record may have; real records have fewer than 6. dlt's JSON
#: writer (orjson) gives up at 255 with a bare `TypeError: Recursion limit reached`, and well before
#: that (about 35 levels) a nested table's name no longer fits a file name
MAX_NESTING = 16


def require_key(record: Any, key: str, what: str, position: int, clues: Sequence[str] = ()) -> Mapping[str, Any]:
    """The record, if it is an object with a non-empty `key`; else an `ApiError` naming the stream,
    the record's position on its page and the fields that identify it (ids and timestamps only)."""
    if not isinstance(record, dict):
        raise ApiError(f"{what}: item {position} of a page is {type(record).__name__}, not a record")
    value = record.get(key)
    if value is None or value == "":
        seen = describe(record, clues)
        raise ApiError(
            f"{what}: the record at position {position} of its page{f' ({seen})' if seen else ''} has no {key},"
            " so it cannot be merged. Report the record to the vendor, or leave this resource out"
            " with --resources"
        )
    return record


def check_nesting(
    record: Mapping[str, Any], what: str, position: int, clues: Sequence[str] = (), limit: int = MAX_NESTING
) -> None:
    """A record nested deeper than `limit` (yet decodable) stops the run in one line naming it."""
    stack = [(value, 2) for value in record.values() if isinstance(value, (dict, list))]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            seen = describe(record, clues)
            raise ApiError(
                f"{what}: the record at position {position} of its page{f' ({seen})' if seen else ''} nests JSON"
                f" more than {limit} levels deep; the API sent a malformed record. Leave this resource out"
                " with --resources until it is fixed"
            )
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))


def describe(record: Mapping[str, Any], clues: Sequence[str]) -> Optional[str]:
    """`end_user_id 77, created_at 2024-03-05T14:07:09+00:00`: the clues the record has."""
    parts = []
    for name in clues:
        value = record.get(name)
        if value is None or isinstance(value, (dict, list)):
            continue
        shown = value.isoformat() if isinstance(value, datetime) else str(value)[:80]
        parts.append(f"{name} {shown}")
    return ", ".join(parts) or None
