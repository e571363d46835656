"""Tracker write-back: check rows of (entity_type, entity_id, name, value) and assign them on Woku.

Pure logic over a WokuClient, without dlt, so every rule is testable without a warehouse.

- Rows are checked against the API's rules before anything is sent: a bad row costs no request,
  its message names every problem at once, and it never stops the valid rows.
- Assignment is an upsert on (entity, tracker name), so a retry is safe (`idempotent=True`).
  Rows go out one at a time in input order, so when the input names the same (entity, name) twice,
  the last row wins, as it would in a spreadsheet.
- `create_missing` lists the definitions once (inactive ones too: their names are taken) and
  creates each absent name with an `X-Woku-Idempotency-Key` derived from the name. A retried or
  re-run create replays the first answer instead of creating a second definition, and a 409 means
  the name already exists.
- Outcomes: `assigned`; `rejected` (invalid before sending, or a 4xx answer: retrying cannot help);
  `failed` (no usable answer after the retries: 5xx, resets, timeouts; sending again later may work).
"""

import hashlib
import math
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from datetime import time as dtime
from decimal import Decimal
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union
from uuid import UUID

from sources.http_kit import ApiError, ApiUnavailableError, AuthError, SourceError
from sources.http_kit.redact import one_line
from sources.woku.helpers.client import WokuClient
from sources.woku.settings import OBJECT_ID, TRACKER_ENTITY_TYPES

ASSIGNED, REJECTED, FAILED = "assigned", "rejected", "failed"
STATUSES = (ASSIGNED, REJECTED, FAILED)
#: the input columns, in the order of the CSV header
COLUMNS = ("entity_type", "entity_id", "name", "value")
MAX_NAME = 60
MAX_VALUE = 500
DEFINITIONS_PATH = "/v1/external-trackers"
IDEMPOTENCY_HEADER = "X-Woku-Idempotency-Key"
#: a definition needs a `system` (the external system it maps to); ours says who created it
CREATED_SYSTEM = "feedback-connectors"
CREATED_DESCRIPTION = "Created by the feedback-connectors tracker write-back (--create-missing)"
#: after this many rows in a row that got no answer, the API is down: the rest are not sent
MAX_CONSECUTIVE_FAILURES = 10

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

    def as_record(self) -> Dict[str, Any]:
        return asdict(self)


Checked = Union[TrackerRow, RowResult]
#: a row as a reader gives it: its 1-based number, its columns, and problems the reader already found
InputRow = Tuple[int, Mapping[str, Any], Sequence[str]]


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
    if value is None:
        return None
    try:
        return as_text(value)
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


def idempotency_key(name: str) -> str:
    """The same name always gives the same key: a retried or re-run create replays, never duplicates."""
    return "feedback-connectors-tracker-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:40]


def names_in_order(rows: Iterable[Checked]) -> List[str]:
    """Tracker names the valid rows use, each once, in order of first use."""
    return list(dict.fromkeys(r.name for r in rows if isinstance(r, TrackerRow)))


@dataclass(frozen=True)
class DefinitionPlan:
    """How the valid rows' names compare with the company's catalog."""

    to_create: List[str]
    inactive: List[str]


def plan_definitions(rows: Sequence[Checked], definitions: Mapping[str, Mapping[str, Any]]) -> DefinitionPlan:
    names = names_in_order(rows)
    return DefinitionPlan(
        to_create=[n for n in names if n not in definitions],
        inactive=[n for n in names if n in definitions and definitions[n].get("active") is False],
    )


# ---------------------------------------------------------------------------------------------- writes
@dataclass
class WriteBackReport:
    """Every row's outcome in input order, plus what the run cost."""

    results: List[RowResult]
    created: List[str] = field(default_factory=list)
    requests: int = 0
    retries: int = 0
    #: why sending stopped before the end (the rows not sent are `failed`), if it did
    stopped: Optional[str] = None
    #: the API rejected the key mid-run: the results are complete, but the run must end in this error
    aborted: Optional[SourceError] = None

    def counts(self) -> Dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        for result in self.results:
            counts[result.status] += 1
        return counts


class TrackerWriteBack:
    """Sends checked rows through one WokuClient, one at a time, and says what became of each."""

    def __init__(
        self,
        client: WokuClient,
        *,
        clock: Clock = utc_now,
        max_consecutive_failures: int = MAX_CONSECUTIVE_FAILURES,
    ) -> None:
        self.client = client
        self._clock = clock
        self.max_consecutive_failures = max_consecutive_failures

    @property
    def _last_status(self) -> Optional[int]:
        """The status of the final attempt (the client returns bodies only)."""
        return getattr(getattr(self.client, "api", None), "last_status", None)

    # ---------------------------------------------------------------- definitions
    def definitions(self) -> Dict[str, Dict[str, Any]]:
        """The company's tracker definitions by name, inactive ones included."""
        found: Dict[str, Dict[str, Any]] = {}
        for page in self.client.pages(DEFINITIONS_PATH, {"includeInactive": "true"}):
            for record in page:
                if isinstance(record, dict) and isinstance(record.get("name"), str):
                    found[record["name"]] = record
        return found

    def create_definitions(self, names: Sequence[str]) -> Tuple[List[str], Dict[str, RowResult]]:
        """Create each name; returns the names created and, per name that could not be, a template outcome.

        A 409 is success: the name exists (created since we listed, or by an earlier attempt).
        """
        created: List[str] = []
        problems: Dict[str, RowResult] = {}
        for name in names:
            try:
                self.client.post(
                    DEFINITIONS_PATH,
                    json={"name": name, "system": CREATED_SYSTEM, "description": CREATED_DESCRIPTION},
                    headers={IDEMPOTENCY_HEADER: idempotency_key(name)},
                    idempotent=True,  # the idempotency key makes a repeated create replay the first answer
                )
                created.append(name)
            except AuthError:
                raise
            except ApiError as exc:
                if exc.status == 409:
                    continue
                status = FAILED if _is_failure(exc) else REJECTED
                reason = f"tracker definition {name!r} could not be created: {self._describe(exc, DEFINITIONS_PATH)}"
                problems[name] = RowResult(0, None, None, name, status, exc.status, reason, self._clock())
        return created, problems

    # ---------------------------------------------------------------- assignments
    def assign(self, row: TrackerRow) -> RowResult:
        """One upsert; AuthError propagates (every later row would fail the same way)."""
        api = getattr(self.client, "api", None)
        if api is not None:
            api.last_status = None
        try:
            body = self.client.post(row.path, json=row.body, idempotent=True)
        except AuthError:
            raise
        except ApiError as exc:
            status = FAILED if _is_failure(exc) else REJECTED
            return self._result(row, status, exc.status, self._describe(exc, row.path))
        return self._result(row, ASSIGNED, self._last_status, _assigned_message(body))

    def run(self, rows: Sequence[Checked], *, create_missing: bool = False) -> WriteBackReport:
        """Send every valid row in input order; invalid rows pass through as they are."""
        sent_before, retries_before = self._counters()
        report = WriteBackReport(results=[])
        blocked: Dict[str, RowResult] = {}
        if create_missing and any(isinstance(r, TrackerRow) for r in rows):
            plan = plan_definitions(rows, self.definitions())
            report.created, blocked = self.create_definitions(plan.to_create)
        last_to_send = max((i for i, r in enumerate(rows) if isinstance(r, TrackerRow)), default=-1)
        consecutive, answered = 0, False
        for index, row in enumerate(rows):
            if isinstance(row, RowResult):
                report.results.append(row)
                continue
            if report.aborted is not None or report.stopped is not None:
                reason = report.stopped or f"the API rejected the key: {report.aborted}"
                report.results.append(self._result(row, FAILED, None, one_line(f"not sent: {reason}")))
                continue
            if row.name in blocked:
                template = blocked[row.name]
                report.results.append(self._result(row, template.status, template.http_status, template.message))
                continue
            try:
                result = self.assign(row)
            except AuthError as exc:
                if not answered:
                    raise  # a bad key from the start: one error line, nothing to record
                report.aborted = exc
                result = self._result(row, FAILED, 401, one_line(str(exc)))
            report.results.append(result)
            answered = answered or result.status != FAILED
            consecutive = consecutive + 1 if result.status == FAILED else 0
            if consecutive >= self.max_consecutive_failures and index < last_to_send:
                report.stopped = f"the API failed {consecutive} rows in a row (last: {result.message})"
        sent_after, retries_after = self._counters()
        report.requests, report.retries = sent_after - sent_before, retries_after - retries_before
        return report

    # ---------------------------------------------------------------- helpers
    def _result(self, row: TrackerRow, status: str, http_status: Optional[int], message: Optional[str]) -> RowResult:
        return RowResult(
            row.row_number, row.entity_type, row.entity_id, row.name, status, http_status, message, self._clock()
        )

    def _describe(self, exc: ApiError, path: str) -> str:
        """The API's own reason (`HTTP 404: Entity not found`), without the host the client names."""
        return one_line(exc.describe())

    def _counters(self) -> Tuple[int, int]:
        api = getattr(self.client, "api", None)
        return getattr(api, "requests_sent", 0), getattr(api, "retries", 0)


def _is_failure(exc: ApiError) -> bool:
    """No usable answer (after the retries): worth sending again later, unlike a 4xx."""
    return isinstance(exc, ApiUnavailableError) or exc.status is None or exc.status >= 500


def _assigned_message(body: Any) -> str:
    """`created` for a new value, `updated` when the upsert overwrote one."""
    if isinstance(body, dict) and body.get("createdAt") and body.get("updatedAt"):
        return "created" if body["createdAt"] == body["updatedAt"] else "updated"
    return "assigned"
