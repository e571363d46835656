"""What a tracker row is: (entity_type, entity_id, name, value), checked against the API's rules before
anything is sent. A bad row costs no request and its message names every problem at once."""

import math
from dataclasses import dataclass
from datetime import date, datetime, timezone
from datetime import time as dtime
from decimal import Decimal
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Union
from uuid import UUID

from pipelines.writeback.reader import InputRow, printable
from sources.woku.settings import OBJECT_ID, TRACKER_ENTITY_TYPES

ASSIGNED, REJECTED, FAILED = "assigned", "rejected", "failed"
STATUSES = (ASSIGNED, REJECTED, FAILED)
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
    if isinstance(value, int):
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
    if isinstance(value, UUID):
        return str(value)
    raise ValueError(f"a {type(value).__name__}, not text or a number")


def validate_row(
    row_number: int, raw: Mapping[str, Any], problems: Sequence[str] = (), clock: Clock = utc_now
) -> Checked:
    """A TrackerRow, or a `rejected` RowResult whose message lists every problem of the row.

    `entity_type` and `entity_id` are trimmed (and the type lower-cased): padding from a CHAR column
    or a spreadsheet is not a different entity. `name` and `value` are sent exactly as given; a blank
    one (spaces only) is rejected, as it cannot name a definition or identify a CRM record.
    """
    found: List[str] = list(problems)
    texts: Dict[str, Optional[str]] = {}
    unreadable = set()
    for column in COLUMNS:
        try:
            texts[column] = as_text(raw.get(column))
        except ValueError as exc:
            texts[column] = None
            unreadable.add(column)
            found.append(f"{column} is {exc}")
    entity_type = None if "entity_type" in unreadable else _checked_entity_type(texts["entity_type"], found)
    entity_id = None if "entity_id" in unreadable else _checked_entity_id(texts["entity_id"], found)
    name = None if "name" in unreadable else _checked_length("name", texts["name"], MAX_NAME, found)
    value = None if "value" in unreadable else _checked_length("value", texts["value"], MAX_VALUE, found)
    if found:
        return RowResult(
            row_number,
            _raw_text(raw.get("entity_type")),
            _raw_text(raw.get("entity_id")),
            _raw_text(raw.get("name")),
            REJECTED,
            None,
            "; ".join(found),
            clock(),
        )
    assert entity_type is not None and entity_id is not None and name is not None and value is not None
    return TrackerRow(row_number, entity_type, entity_id, name, value)


def _checked_entity_type(text: Optional[str], found: List[str]) -> Optional[str]:
    if text is None or not text.strip():
        found.append("entity_type is missing")
        return None
    normal = text.strip().lower()
    if normal not in TRACKER_ENTITY_TYPES:
        found.append(f"entity_type {_show(text)} is not one of {', '.join(TRACKER_ENTITY_TYPES)}")
        return None
    return normal


def _checked_entity_id(text: Optional[str], found: List[str]) -> Optional[str]:
    if text is None or not text.strip():
        found.append("entity_id is missing")
        return None
    normal = text.strip()
    if not OBJECT_ID.fullmatch(normal):
        found.append(f"entity_id {_show(text)} is not a 24-hex ObjectId")
        return None
    return normal


def _checked_length(column: str, text: Optional[str], limit: int, found: List[str]) -> Optional[str]:
    if text is None:
        found.append(f"{column} is missing")
        return None
    if text == "":
        found.append(f"{column} is empty")
        return None
    if not text.strip():
        found.append(f"{column} is blank")
        return None
    if len(text) > limit:
        found.append(f"{column} is {len(text)} characters (at most {limit})")
        return None
    return text


def _show(text: str, limit: int = 40) -> str:
    """A quoted excerpt of an input value for a message: long garbage stays short."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _raw_text(value: Any) -> Optional[str]:
    """A rejected row's field as recorded: control characters escaped (PostgreSQL cannot store a NUL)."""
    if value is None:
        return None
    try:
        return printable(as_text(value))
    except ValueError:
        return repr(value)[:200]


def validate_rows(rows: Iterable[InputRow], clock: Clock = utc_now) -> List[Checked]:
    """Check every row, keeping input order."""
    return [validate_row(n, raw, problems, clock) for n, raw, problems in rows]


# --------------------------------------------------------------------------------------------- routing
def assignment_path(entity_type: str, entity_id: str) -> str:
    """Woku rows have their own route; tools, forms and flows share the typed one."""
    if entity_type == "woku":
        return f"/v1/external-trackers/wokus/{entity_id}"
    return f"/v1/external-trackers/{entity_type}/{entity_id}"
