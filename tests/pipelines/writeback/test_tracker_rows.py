"""What a tracker row is: the checks made before anything is sent, its text values and its route."""

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

import pytest

from pipelines.writeback.tracker_rows import REJECTED, RowResult, TrackerRow, as_text, assignment_path, validate_row
from pipelines.writeback.trackers import idempotency_key, plan_definitions

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
    # pinned: a re-run in another process, or after an upgrade, must send the same key to replay the create
    assert idempotency_key("trr") == "feedback-connectors-tracker-c0b6ac8c1df175e2e1df3f1a73bb4e2a4594bf61"
    assert idempotency_key("trr") != idempotency_key("trr ")
    assert "trr" not in idempotency_key("trr")


def test_plan_names_absent_and_inactive_definitions_once_in_order() -> None:
    rows = [check(name="b"), check(name="a"), check(name="b"), check(name="old"), check(name="n" * 61)]
    plan = plan_definitions(rows, {"a": {"active": True}, "old": {"active": False}})
    assert plan == (["b"], ["old"])
