"""Timestamps in every shape the vendors return, as UTC instants; one rule for unreadable ones."""

import logging
from datetime import datetime, timezone
from typing import Any, Iterable, MutableMapping, Optional

from sources.http_kit import SourceError

UTC = timezone.utc
logger = logging.getLogger(__name__)


def to_utc(value: Any) -> Optional[datetime]:
    """Parse one timestamp into an aware UTC datetime.

    Shapes seen: Wootric's ``2016-12-16 09:05:00 -0800``, ``2015-02-12T06:29:27.000-08:00``,
    ``2015-04-20 04:46:51-08:00``, ``2014-12-01 18:36:59`` (no offset: read as UTC, where both vendors'
    servers run) and UNIX seconds as integers (``external_created_at``); Woku's JavaScript
    ``2024-03-05T14:07:09.123Z``.
    """
    if isinstance(value, str):  # the hot path: every timestamp of every record
        text = value.strip()
        if not text:
            return None
        if text.lstrip("-").isdigit():
            return _from_epoch(int(text))
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            # "09:05:00 -0800": fromisoformat wants the offset attached to the time
            if not (len(text) > 6 and text[-6] == " " and text[-5] in "+-"):
                raise
            parsed = datetime.fromisoformat(text[:-6] + text[-5:])
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, bool):
        raise ValueError(f"not a timestamp: {value!r}")
    if isinstance(value, (int, float)):
        return _from_epoch(value)
    return to_utc(str(value))


def _from_epoch(value: float) -> datetime:
    # integrations often send milliseconds where Wootric documents seconds; no survey predates 1973
    if abs(value) >= 1e11:
        value = value / 1000
    return datetime.fromtimestamp(value, UTC)


def convert_fields(
    record: MutableMapping[str, Any],
    paths: Iterable[str],
    required: str = "",
    *,
    what: str = "record",
    id_key: str = "id",
) -> MutableMapping[str, Any]:
    """Replace the named timestamp fields (dotted paths into nested objects) in place. A value we cannot
    read is kept as it came, with a warning, except in the `required` (cursor) field, where guessing
    would lose or repeat records."""
    for path in paths:
        holder: Any = record
        leaf = path
        if "." in path:  # a nested field; most are flat (and hot: every record of every page)
            *parents, leaf = path.split(".")
            for key in parents:
                holder = holder.get(key) if isinstance(holder, dict) else None
            if not isinstance(holder, dict):
                continue
        value = holder.get(leaf)
        if value is None:
            continue
        try:
            holder[leaf] = to_utc(value)
        except (TypeError, ValueError, OverflowError, OSError):
            if path == required:
                raise SourceError(
                    f"{what} {record.get(id_key)!r}: unreadable {path} {value!r}; cannot place it"
                ) from None
            logger.warning("%s %r: kept unreadable %s %r as text", what, record.get(id_key), path, value)
    return record
