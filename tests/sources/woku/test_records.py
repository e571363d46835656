"""Woku records: UTC datetimes, the account first, and a clear stop on a record the cursor cannot place."""

from datetime import datetime, timezone

import pytest

from sources.http_kit import ApiError, SourceError
from sources.record_kit.timestamps import to_utc
from sources.woku.helpers.records import MAX_NESTING, check_nesting, tagged


def test_timestamps_become_utc_instants() -> None:
    assert to_utc("2024-03-05T14:07:09.123Z") == datetime(2024, 3, 5, 14, 7, 9, 123000, tzinfo=timezone.utc)
    assert to_utc("2024-03-05T16:07:09+02:00") == datetime(2024, 3, 5, 14, 7, 9, tzinfo=timezone.utc)
    assert to_utc("2024-03-05T14:07:09") == datetime(2024, 3, 5, 14, 7, 9, tzinfo=timezone.utc)


def test_account_first_nulls_dropped_and_an_api_account_kept_aside() -> None:
    rows = tagged(
        [{"_id": "a", "createdAt": "2024-03-05T14:07:09.000Z", "textnote": None, "account": "x"}], "acme", "t"
    )
    assert list(rows[0]) == ["account", "_id", "createdAt", "api_account"]
    assert rows[0]["account"] == "acme" and rows[0]["api_account"] == "x"


def test_a_response_without_its_cursor_stops_with_its_id() -> None:
    with pytest.raises(SourceError, match="nps_responses 'b': no createdAt"):
        tagged([{"_id": "b", "score": 9}], "acme", "nps_responses", cursor="createdAt")
    with pytest.raises(SourceError, match="unreadable createdAt"):
        tagged([{"_id": "c", "createdAt": "yesterday"}], "acme", "nps_responses", cursor="createdAt")


def test_nesting_up_to_the_limit_passes_and_beyond_it_is_named() -> None:
    def deep(levels: int) -> dict:
        """A record `levels` deep: itself, then lists and objects in turn."""
        value: object = 1
        for level in range(levels - 1):
            value = {"k": value} if level % 2 else [value]
        return {"_id": "a", "x": value}

    check_nesting(deep(MAX_NESTING), "nps_responses", 1)
    with pytest.raises(ApiError, match="nps_responses: the record at position 4 .* more than 16 levels deep"):
        check_nesting(deep(MAX_NESTING + 1), "nps_responses", 4)
