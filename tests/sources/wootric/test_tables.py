"""Arrow conversion never raises on odd values and never drops them: they land in `other_fields`."""

import json
from datetime import datetime, timezone

import pytest

from sources.http_kit import SourceError
from sources.wootric.helpers.tables import as_int64, to_table

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


def row(**fields):
    return {"id": 1, "created_at": NOW, "updated_at": NOW, "score": 9, "excluded_from_calculations": False, **fields}


def test_odd_values_are_kept_not_dropped() -> None:
    got = to_table(
        "responses",
        [
            row(
                score=9.5,
                excluded_from_calculations="true",
                completed=1,
                survey="web",
                end_user={"properties": {"account": 98765432109876543210}},
                brand_new={"a": 1},
            )
        ],
        "acme",
    ).to_pylist()[0]
    assert got["score"] is None and got["excluded_from_calculations"] is True and got["completed"] is True
    assert json.loads(got["end_user__properties"]) == {"account": 98765432109876543210}
    assert json.loads(got["other_fields"]) == {"score": 9.5, "survey": "web", "brand_new": {"a": 1}}


def test_an_id_beyond_64_bits_is_a_clear_error() -> None:
    with pytest.raises(SourceError, match="does not fit a 64-bit integer"):
        to_table("responses", [row(id=2**70)], "acme")


def test_known_fields_leave_other_fields_empty() -> None:
    got = to_table("responses", [row(survey={"channel": "email"}, end_user={"properties": {"plan": "Pro"}})], "acme")
    assert got.to_pylist()[0]["other_fields"] is None


def test_every_row_names_its_account_even_when_the_api_sends_a_field_of_that_name() -> None:
    got = to_table("responses", [row(), row(id=2, account="from the api")], "acme").to_pylist()
    assert [r["account"] for r in got] == ["acme", "acme"]
    assert json.loads(got[1]["other_fields"]) == {"account": "from the api"}


def test_numeric_strings_in_integer_columns_are_the_integers_they_spell() -> None:
    got = to_table("responses", [row(id="5", end_user_id="77", score="9")], "acme").to_pylist()[0]
    assert (got["id"], got["end_user_id"], got["score"], got["other_fields"]) == (5, 77, 9, None)


def test_an_id_that_is_not_a_number_is_named_as_such() -> None:
    with pytest.raises(SourceError, match="record id 'R-5' is not an integer"):
        to_table("responses", [row(id="R-5")], "acme")


def test_a_numeric_string_is_the_integer_it_spells_and_nothing_else_is() -> None:
    assert as_int64("123") == 123 and as_int64(" -7 ") == -7 and as_int64("+5") == 5
    for kept in ("12.5", "R-123", "", "1e3", str(2**63), 12.0, None, True):
        assert as_int64(kept) == kept
