"""Tracker write-back rules without a network: row checks, routing, and how answers become outcomes."""

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Dict, List, Optional

import pytest

from sources.http_kit import ApiError, ApiUnavailableError, AuthError, register_secret
from sources.woku.trackers import (
    ASSIGNED,
    FAILED,
    IDEMPOTENCY_HEADER,
    REJECTED,
    RowResult,
    TrackerRow,
    TrackerWriteBack,
    as_text,
    assignment_path,
    idempotency_key,
    plan_definitions,
    validate_row,
)

OID = "65550bf2dee7a73a9a1fdbc1"
AT = datetime(2024, 5, 1, tzinfo=timezone.utc)


def check(**overrides: Any) -> Any:
    raw = {"entity_type": "nps", "entity_id": OID, "name": "trr", "value": "TX-1", **overrides}
    return validate_row(7, raw, clock=lambda: AT)


def message(**overrides: Any) -> str:
    result = check(**overrides)
    assert isinstance(result, RowResult), f"expected a rejection for {overrides}"
    assert result.status == REJECTED and result.http_status is None and result.at == AT
    return result.message


# ------------------------------------------------------------------------------------------ validation
def test_a_valid_row_keeps_its_number_and_values() -> None:
    assert check() == TrackerRow(7, "nps", OID, "trr", "TX-1")


@pytest.mark.parametrize("entity_type", ["nps", "csat", "ces", "form", "flow", "woku"])
def test_every_entity_type_is_accepted(entity_type: str) -> None:
    assert isinstance(check(entity_type=entity_type), TrackerRow)


@pytest.mark.parametrize("entity_type", ["survey", "wokus", "nps_tool", "n ps"])
def test_an_unknown_entity_type_is_rejected(entity_type: str) -> None:
    assert "is not one of nps, csat, ces, form, flow, woku" in message(entity_type=entity_type)


def test_entity_type_and_id_padding_and_case_are_not_a_different_entity() -> None:
    row = check(entity_type=" NPS ", entity_id=f" {OID.upper()}\t")
    assert isinstance(row, TrackerRow) and row.entity_type == "nps" and row.entity_id == OID.upper()


@pytest.mark.parametrize(
    "entity_id",
    [OID[:23], OID + "a", "z" + OID[1:], "65550bf2-dee7a73a9a1fdbc1", "0x" + OID[:22], OID[:23] + "\n"],
    ids=["23 chars", "25 chars", "non-hex", "dash", "0x prefix", "23 + newline"],
)
def test_entity_id_must_be_24_hex(entity_id: str) -> None:
    assert "is not a 24-hex ObjectId" in message(entity_id=entity_id)


def test_missing_fields_are_named() -> None:
    assert message(entity_type=None) == "entity_type is missing"
    assert message(entity_id="") == "entity_id is missing"
    assert message(name=None) == "name is missing"
    assert message(value=None) == "value is missing"


def test_name_boundaries() -> None:
    assert isinstance(check(name="n" * 60), TrackerRow)
    assert isinstance(check(name="n"), TrackerRow)
    assert message(name="n" * 61) == "name is 61 characters (at most 60)"
    assert message(name="") == "name is empty"
    assert message(name="   ") == "name is blank"


def test_value_boundaries() -> None:
    assert check(value="v" * 500).value == "v" * 500
    assert isinstance(check(value="v"), TrackerRow)
    assert message(value="v" * 501) == "value is 501 characters (at most 500)"
    assert message(value="") == "value is empty"
    assert message(value=" \t") == "value is blank"


def test_lengths_count_characters_not_bytes() -> None:
    assert isinstance(check(name="ñ" * 60, value="日" * 500), TrackerRow)


def test_name_and_value_are_sent_exactly_as_given() -> None:
    row = check(name=" trr", value="  TX-1 ")
    assert (row.name, row.value) == (" trr", "  TX-1 ")


def test_every_problem_of_a_row_is_in_one_message() -> None:
    text = message(entity_type="survey", entity_id="abc", name="n" * 61, value="")
    assert text.split("; ") == [
        "entity_type 'survey' is not one of nps, csat, ces, form, flow, woku",
        "entity_id 'abc' is not a 24-hex ObjectId",
        "name is 61 characters (at most 60)",
        "value is empty",
    ]


def test_reader_problems_come_first_and_the_raw_columns_are_kept() -> None:
    result = validate_row(3, {"entity_type": "flow", "entity_id": "x", "name": "trr"}, ["the row has 3 fields"])
    assert isinstance(result, RowResult)
    assert result.message == "the row has 3 fields; entity_id 'x' is not a 24-hex ObjectId; value is missing"
    assert (result.row_number, result.entity_type, result.entity_id, result.name) == (3, "flow", "x", "trr")


def test_long_garbage_is_shortened_in_messages() -> None:
    text = message(entity_id="g" * 1000)
    assert len(text) < 100 and "…" in text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (12345, "12345"),
        (12345.0, "12345"),
        (12.5, "12.5"),
        (Decimal("99.50"), "99.50"),
        (True, "true"),
        (date(2024, 3, 1), "2024-03-01"),
        ("007", "007"),
    ],
)
def test_numbers_and_other_scalars_become_strings(value: Any, text: str) -> None:
    assert as_text(value) == text
    assert check(value=value).value == text


def test_a_number_in_any_column_is_text_too() -> None:
    assert check(name=2024).name == "2024"


@pytest.mark.parametrize("value", [float("nan"), float("inf"), b"bytes", ["list"]])
def test_values_without_a_text_form_are_rejected(value: Any) -> None:
    assert message(value=value).startswith("value is ")


# --------------------------------------------------------------------------------------------- routing
@pytest.mark.parametrize("entity_type", ["nps", "csat", "ces", "form", "flow"])
def test_tools_forms_and_flows_use_the_typed_route(entity_type: str) -> None:
    assert assignment_path(entity_type, OID) == f"/v1/external-trackers/{entity_type}/{OID}"


def test_wokus_use_their_own_route() -> None:
    assert assignment_path("woku", OID) == f"/v1/external-trackers/wokus/{OID}"
    assert check(entity_type="woku").path == f"/v1/external-trackers/wokus/{OID}"


def test_the_body_is_name_and_value_only() -> None:
    assert check(value=42).body == {"name": "trr", "value": "42"}


def test_idempotency_key_is_a_function_of_the_name() -> None:
    assert idempotency_key("trr") == idempotency_key("trr")
    assert idempotency_key("trr") != idempotency_key("trr ")
    assert "trr" not in idempotency_key("trr")


def test_plan_names_absent_and_inactive_definitions_once_in_order() -> None:
    rows = [check(name="b"), check(name="a"), check(name="b"), check(name="old"), check(name="n" * 61)]
    plan = plan_definitions(rows, {"a": {"active": True}, "old": {"active": False}})
    assert (plan.to_create, plan.inactive) == (["b"], ["old"])


# ----------------------------------------------------------------------------------- answers → outcomes
class FakeClient:
    """Answers POSTs from a script: a dict body, or an exception to raise."""

    def __init__(self, answers: Dict[str, List[Any]], definitions: Optional[List[Dict[str, Any]]] = None) -> None:
        self.answers = answers
        self.definitions = definitions or []
        self.posts: List[tuple] = []

    def pages(self, path: str, params: Any = None) -> Any:
        assert params == {"includeInactive": "true"}
        yield self.definitions

    def post(self, path: str, **kwargs: Any) -> Any:
        self.posts.append((path, kwargs))
        queue = self.answers.get(path) or [{"createdAt": "t", "updatedAt": "t"}]
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def rows_for(*entity_ids: str) -> List[Any]:
    return [check(entity_id=e) for e in entity_ids]


def path(entity_id: str) -> str:
    return f"/v1/external-trackers/nps/{entity_id}"


A, B, C = "a" * 24, "b" * 24, "c" * 24


def test_answers_become_assigned_rejected_or_failed() -> None:
    client = FakeClient(
        {
            path(B): [ApiError("POST: HTTP 404", 404, body={"message": "Entity not found"})],
            path(C): [ApiUnavailableError("POST failed", 503, detail="failed after 6 attempts: HTTP 503")],
        }
    )
    report = TrackerWriteBack(client).run(rows_for(A, B, C))
    got = [(r.status, r.http_status, r.message) for r in report.results]
    assert got == [
        (ASSIGNED, None, "created"),
        (REJECTED, 404, "HTTP 404: Entity not found"),
        (FAILED, 503, "failed after 6 attempts: HTTP 503"),
    ]
    assert all(kwargs["idempotent"] is True for _, kwargs in client.posts)


def test_validation_messages_of_the_api_are_joined() -> None:
    body = {"statusCode": 400, "message": ["value must be a string", "name should not be empty"]}
    client = FakeClient({path(A): [ApiError("POST: HTTP 400", 400, body=body)]})
    (result,) = TrackerWriteBack(client).run(rows_for(A)).results
    assert result.message == "HTTP 400: value must be a string; name should not be empty"


def test_invalid_rows_pass_through_in_order_and_cost_nothing() -> None:
    rows = [check(entity_id=A), check(entity_id="bad"), check(entity_id=B)]
    client = FakeClient({})
    report = TrackerWriteBack(client).run(rows)
    assert [(r.row_number, r.status) for r in report.results] == [(7, ASSIGNED), (7, REJECTED), (7, ASSIGNED)]
    assert [p for p, _ in client.posts] == [path(A), path(B)]


def test_a_rejected_key_before_any_answer_stops_the_run() -> None:
    client = FakeClient({path(A): [AuthError("the API rejected the configured Woku API key")]})
    with pytest.raises(AuthError):
        TrackerWriteBack(client).run(rows_for(A, B))


def test_a_key_rejected_mid_run_keeps_every_outcome() -> None:
    client = FakeClient({path(B): [AuthError("POST http://h/x: the API answered 401 Unauthorized")]})
    report = TrackerWriteBack(client).run(rows_for(A, B, C))
    assert [r.status for r in report.results] == [ASSIGNED, FAILED, FAILED]
    assert report.results[1].http_status == 401
    assert report.results[2].message.startswith("not sent: the API rejected the key")
    assert isinstance(report.aborted, AuthError)
    assert len(client.posts) == 2


def test_consecutive_failures_stop_sending() -> None:
    down = ApiUnavailableError("POST failed", detail="failed after 6 attempts: connection failed or reset")
    ids = [f"{i:024x}" for i in range(6)]
    client = FakeClient({path(i): [down] for i in ids})
    report = TrackerWriteBack(client, max_consecutive_failures=3).run(rows_for(*ids))
    assert len(client.posts) == 3
    assert [r.status for r in report.results] == [FAILED] * 6
    assert report.stopped and report.results[-1].message.startswith("not sent: the API failed 3 rows in a row")


def test_create_missing_creates_absent_names_once_with_their_key() -> None:
    client = FakeClient(
        {"/v1/external-trackers": [{"_id": "x"}]},
        definitions=[{"name": "trr", "active": True}, {"name": "old", "active": False}],
    )
    rows = [check(name="new"), check(name="trr"), check(name="new"), check(name="old")]
    report = TrackerWriteBack(client).run(rows, create_missing=True)
    creates = [kwargs for p, kwargs in client.posts if p == "/v1/external-trackers"]
    assert len(creates) == 1
    assert creates[0]["json"]["name"] == "new" and creates[0]["json"]["system"]
    assert creates[0]["headers"] == {IDEMPOTENCY_HEADER: idempotency_key("new")}
    assert report.created == ["new"]


def test_a_409_on_create_means_the_name_exists() -> None:
    client = FakeClient({"/v1/external-trackers": [ApiError("POST: HTTP 409", 409, body="taken")]})
    report = TrackerWriteBack(client).run([check(name="new")], create_missing=True)
    assert report.created == [] and report.results[0].status == ASSIGNED


def test_rows_of_a_definition_that_could_not_be_created_are_not_sent() -> None:
    client = FakeClient(
        {"/v1/external-trackers": [ApiError("POST: HTTP 403", 403, body={"message": "no"})]}
    )
    report = TrackerWriteBack(client).run([check(name="new"), check(name="new")], create_missing=True)
    assert [(r.status, r.http_status) for r in report.results] == [(REJECTED, 403)] * 2
    assert report.results[0].message == "tracker definition 'new' could not be created: HTTP 403: no"
    assert len(client.posts) == 1


def test_the_key_is_scrubbed_from_anything_the_api_echoes() -> None:
    register_secret("sk_live_1")
    client = FakeClient({path(A): [ApiError("POST: HTTP 400", 400, body={"message": "bad sk_live_1"})]})
    (result,) = TrackerWriteBack(client).run(rows_for(A)).results
    assert "sk_live_1" not in result.message and "***" in result.message
