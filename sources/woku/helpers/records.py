"""Woku records as the warehouse should hold them: UTC datetimes, and the account they came from."""

from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Optional

from sources.http_kit import SourceError
from sources.record_kit.accounts import ACCOUNT
from sources.record_kit.answers import check_nesting, require_key
from sources.record_kit.timestamps import convert_fields, to_utc
from sources.woku.settings import TIMESTAMP_FIELDS

#: `2024-03-05T14:07:09.123Z` (JavaScript's toISOString) or any ISO 8601 instant; naive means UTC
parse_timestamp = to_utc

#: what identifies a record that lacks its `_id` (ids and timestamps, never a client's contact)
_CLUES = ("createdAt", "wokuId", "formId", "flowId", "npsToolId", "csatToolId", "cesToolId", "entityId")


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
        check_nesting(record, what, position, _CLUES)  # dlt's writer would fail on it in a traceback
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
