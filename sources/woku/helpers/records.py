"""Woku records as the warehouse should hold them: UTC datetimes, and the account they came from."""

import logging
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Optional

from sources.http_kit import SourceError
from sources.woku.settings import TIMESTAMP_FIELDS

logger = logging.getLogger(__name__)

ACCOUNT = "account"


def parse_timestamp(value: Any) -> Optional[datetime]:
    """`2024-03-05T14:07:09.123Z` (JavaScript's toISOString) or any ISO 8601 instant; naive means UTC."""
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    return parsed.astimezone(timezone.utc) if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def convert(record: Dict[str, Any], what: str, cursor: Optional[str] = "createdAt") -> Dict[str, Any]:
    """Timestamps to datetimes in place. An unreadable cursor stops the run; any other is kept as text."""
    for path in TIMESTAMP_FIELDS:
        *parents, leaf = path.split(".")
        holder: Any = record
        for key in parents:
            holder = holder.get(key) if isinstance(holder, dict) else None
        if not isinstance(holder, dict) or holder.get(leaf) is None:
            continue
        try:
            holder[leaf] = parse_timestamp(holder[leaf])
        except (TypeError, ValueError):
            if path == cursor:
                raise SourceError(f"{what} {record.get('_id')!r}: unreadable {path} {holder[leaf]!r}") from None
            logger.warning("%s %s: unreadable %s %r kept as text", what, record.get("_id"), path, holder[leaf])
    return record


def tagged(
    records: Iterable[Dict[str, Any]], account: str, what: str, cursor: Optional[str] = None
) -> List[Dict[str, Any]]:
    """Converted records with the account first; an `account` field from the API is kept aside.

    With `cursor`, a record without that timestamp stops the run with its id (the incremental
    state could not place it)."""
    out = []
    for record in records:
        convert(record, what)
        if cursor is not None and not isinstance(record.get(cursor), datetime):
            raise SourceError(f"{what} {record.get('_id')!r}: no {cursor}")
        if ACCOUNT in record:
            record["api_account"] = record.pop(ACCOUNT)
        # a null object (`textnote: null`) would make dlt warn on every load that it cannot type it;
        # an absent key lands as NULL all the same
        out.append({ACCOUNT: account, **{k: v for k, v in record.items() if v is not None}})
    return out
