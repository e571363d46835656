"""Wootric's timestamps, in all the shapes the API returns, as UTC instants."""

import logging
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping, MutableMapping, Optional

from sources.http_kit import SourceError

UTC = timezone.utc
logger = logging.getLogger(__name__)


def to_utc(value: Any) -> Optional[datetime]:
    """Parse one Wootric timestamp into an aware UTC datetime.

    Shapes seen in the API: ``2016-12-16 09:05:00 -0800``, ``2015-02-12T06:29:27.000-08:00``,
    ``2015-04-20 04:46:51-08:00``, ``2014-12-01 18:36:59`` (no offset: Wootric's servers run on
    UTC, so it is read as UTC) and UNIX seconds as integers (``external_created_at``).
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, bool):
        raise ValueError(f"not a timestamp: {value!r}")
    if isinstance(value, (int, float)):
        return _from_epoch(value)
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return _from_epoch(int(text))
    # "09:05:00 -0800": fromisoformat wants the offset attached to the time
    if len(text) > 6 and text[-6] == " " and text[-5] in "+-":
        text = text[:-6] + text[-5:]
    parsed = datetime.fromisoformat(text)
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _from_epoch(value: float) -> datetime:
    # integrations often send milliseconds where Wootric documents seconds; no survey predates 1973
    if abs(value) >= 1e11:
        value = value / 1000
    return datetime.fromtimestamp(value, UTC)


def convert_fields(
    record: MutableMapping[str, Any], fields: Iterable[str], required: str = ""
) -> MutableMapping[str, Any]:
    """Replace the named timestamp fields of a record in place; a field that is absent stays absent.

    A value we cannot read is kept as it came (it lands in a text variant column) with a warning,
    except in the `required` (cursor) field, where guessing would lose or repeat records.
    """
    for field in fields:
        if field in record:
            try:
                record[field] = to_utc(record[field])
            except (ValueError, OverflowError, OSError):
                if field == required:
                    raise SourceError(
                        f"record {record.get('id')!r} has an unreadable {field} {record[field]!r}; cannot place it"
                    ) from None
                logger.warning("record %r: kept unreadable %s %r as text", record.get("id"), field, record[field])
    return record


def epoch_seconds(value: datetime) -> int:
    """Whole UNIX seconds, rounded down: the resolution of Wootric's `created[...]` filters."""
    return int(value.timestamp() // 1)


def nested_convert(record: Mapping[str, Any], path: str, fields: Iterable[str]) -> None:
    """Convert timestamp fields of each dict in a list under `path` (e.g. response notes)."""
    items = record.get(path)
    if isinstance(items, list):
        for item in items:
            if isinstance(item, dict):
                convert_fields(item, fields)
