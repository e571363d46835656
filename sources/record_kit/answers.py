"""What a record must give before it is loaded: the key it is merged on. One without it stops the run
in one line naming it (retrying cannot fix the API's answer)."""

from datetime import datetime
from typing import Any, Mapping, Optional, Sequence

from sources.http_kit import ApiError


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
