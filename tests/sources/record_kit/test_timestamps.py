from datetime import datetime, timedelta, timezone

import pytest

from sources.record_kit.timestamps import to_utc

UTC = timezone.utc


@pytest.mark.parametrize(
    "text, instant",
    [
        ("2016-12-16 09:05:00 -0800", datetime(2016, 12, 16, 17, 5, 0, tzinfo=UTC)),
        ("2015-02-12T06:29:27.000-08:00", datetime(2015, 2, 12, 14, 29, 27, tzinfo=UTC)),
        ("2015-04-20 04:46:51-08:00", datetime(2015, 4, 20, 12, 46, 51, tzinfo=UTC)),
        ("2020-03-01 01:30:00 +0530", datetime(2020, 2, 29, 20, 0, 0, tzinfo=UTC)),
        ("2020-03-01 00:10:00 +0945", datetime(2020, 2, 29, 14, 25, 0, tzinfo=UTC)),
        ("2014-12-01 18:36:59", datetime(2014, 12, 1, 18, 36, 59, tzinfo=UTC)),
        ("2015-02-12T06:29:27Z", datetime(2015, 2, 12, 6, 29, 27, tzinfo=UTC)),
        (1515940485, datetime(2018, 1, 14, 14, 34, 45, tzinfo=UTC)),
        ("1515940485", datetime(2018, 1, 14, 14, 34, 45, tzinfo=UTC)),
    ],
)
def test_every_shape_becomes_the_same_utc_instant(text: object, instant: datetime) -> None:
    parsed = to_utc(text)
    assert parsed == instant
    assert parsed.utcoffset() == timedelta(0)


def test_missing_values_stay_missing() -> None:
    assert to_utc(None) is None
    assert to_utc("") is None


def test_garbage_is_an_error_not_a_guess() -> None:
    with pytest.raises(ValueError):
        to_utc("yesterday")
    with pytest.raises(ValueError):
        to_utc(True)


def test_milliseconds_where_seconds_are_documented() -> None:
    assert to_utc(1515940485123) == datetime(2018, 1, 14, 14, 34, 45, 123000, tzinfo=UTC)


def test_an_unreadable_field_is_kept_but_an_unreadable_cursor_stops_the_run(caplog) -> None:
    from sources.http_kit import SourceError
    from sources.record_kit.timestamps import convert_fields

    record = {"id": 7, "created_at": "2016-12-16 09:05:00 -0800", "last_seen_at": "soon"}
    convert_fields(record, ["created_at", "last_seen_at"], required="created_at")
    assert record["last_seen_at"] == "soon" and "kept unreadable last_seen_at" in caplog.text
    with pytest.raises(SourceError, match="record 7: unreadable created_at 'soon'; cannot place it"):
        convert_fields({"id": 7, "created_at": "soon"}, ["created_at"], required="created_at")
