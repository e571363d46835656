"""What a tracker row is: (entity_type, entity_id, name, value), checked against the API's rules before
anything is sent. A bad row costs no request and its message names every problem at once."""

import math
from dataclasses import dataclass
from datetime import date, datetime, timezone
from datetime import time as dtime
from decimal import Decimal
from typing import Any, Callable, Dict, Mapping, Optional, Sequence, Union
from uuid import UUID

from pipelines.writeback.reader import printable, shown
from sources.woku.settings import OBJECT_ID, TRACKER_ENTITY_TYPES

ASSIGNED, REJECTED, FAILED = "assigned", "rejected", "failed"
#: the input columns, in the order of the CSV header
COLUMNS = ("entity_type", "entity_id", "name", "value")
MAX_NAME = 60
MAX_VALUE = 500

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class TrackerRow:
    """A row that passed every check: what will be sent, and where it came from."""

    row_number: int
    entity_type: str
    entity_id: str
    name: str
    value: str

    @property
    def path(self) -> str:
        return assignment_path(self.entity_type, self.entity_id)

    @property
    def body(self) -> Dict[str, str]:
        return {"name": self.name, "value": self.value}

    def result(self, status: str, http_status: Optional[int], message: Optional[str], at: datetime) -> "RowResult":
        return RowResult(self.row_number, self.entity_type, self.entity_id, self.name, status, http_status, message, at)


@dataclass(frozen=True)
class RowResult:
    """The outcome of one input row, as it lands in `tracker_writeback_results`."""

    row_number: int
    entity_type: Optional[str]
    entity_id: Optional[str]
    name: Optional[str]
    status: str
    http_status: Optional[int]
    message: Optional[str]
    at: datetime


Checked = Union[TrackerRow, RowResult]


# ---------------------------------------------------------------------------------------------- checks
def as_text(value: Any) -> Optional[str]:
    """The text the API stores: values are always sent as strings, whatever type the input column has.

    Whole floats lose their `.0` (a DOUBLE column holding order number 12345 sends "12345").
    Raises ValueError for a type that has no obvious text form (bytes, lists, NaN, ...).
    """
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, UUID)):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("not a finite number")
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("not a finite number")
        return format(value, "f")
    if isinstance(value, (datetime, date, dtime)):
        return value.isoformat()
    raise ValueError(f"a {type(value).__name__}, not text or a number")


def validate_row(
    row_number: int, raw: Mapping[str, Any], problems: Sequence[str] = (), clock: Clock = utc_now
) -> Checked:
    """A TrackerRow, or a `rejected` RowResult whose message lists every problem of the row.

    `entity_type` and `entity_id` are trimmed (and the type lower-cased): padding from a CHAR column
    or a spreadsheet is not a different entity. `name` and `value` are sent exactly as given; a blank
    one (spaces only) is rejected, as it cannot name a definition or identify a CRM record.
    """
    found, texts = list(problems), {}
    for column in COLUMNS:
        try:
            texts[column] = as_text(raw.get(column))
            problem = _problem(column, texts[column])
        except ValueError as exc:
            problem = f"{column} is {exc}"
        found += [problem] if problem else []
    if found:
        fields = [_raw_text(raw.get(c)) for c in COLUMNS[:3]]
        return RowResult(row_number, *fields, REJECTED, None, "; ".join(found), clock())
    entity_type, entity_id, name, value = (texts[c] or "" for c in COLUMNS)
    return TrackerRow(row_number, entity_type.strip().lower(), entity_id.strip(), name, value)


def _problem(column: str, text: Optional[str]) -> Optional[str]:
    """Why a column's text cannot be sent, or None."""
    if text is None or (column in ("entity_type", "entity_id") and not text.strip()):
        return f"{column} is missing"
    if column == "entity_type" and text.strip().lower() not in TRACKER_ENTITY_TYPES:
        return f"entity_type {shown(text, 40)} is not one of {', '.join(TRACKER_ENTITY_TYPES)}"
    if column == "entity_id" and not OBJECT_ID.fullmatch(text.strip()):
        return f"entity_id {shown(text, 40)} is not a 24-hex ObjectId"
    if not text.strip():
        return f"{column} is {'empty' if text == '' else 'blank'}"
    limit = {"name": MAX_NAME, "value": MAX_VALUE}.get(column)
    return f"{column} is {len(text)} characters (at most {limit})" if limit and len(text) > limit else None


def _raw_text(value: Any) -> Optional[str]:
    """A rejected row's field as recorded: control characters escaped (PostgreSQL cannot store a NUL)."""
    if value is None:
        return None
    try:
        return printable(as_text(value))
    except ValueError:
        return repr(value)[:200]


# --------------------------------------------------------------------------------------------- routing
def assignment_path(entity_type: str, entity_id: str) -> str:
    """Woku rows have their own route; tools, forms and flows share the typed one."""
    if entity_type == "woku":
        return f"/v1/external-trackers/wokus/{entity_id}"
    return f"/v1/external-trackers/{entity_type}/{entity_id}"
