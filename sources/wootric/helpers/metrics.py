"""Wootric's summary endpoints: daily metric series (one request per day) and small reference lists."""

from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Dict, Iterator, List, MutableMapping

from sources.http_kit import ApiError
from sources.record_kit.timestamps import to_utc

Row = Dict[str, Any]


def days_to_ask(state: MutableMapping[str, Any], first_day: date, trailing_days: int, today: date) -> List[date]:
    """Days not loaded yet, plus the trailing days that can still change (today's figures grow).

    Moving the first day earlier later on backfills the days in front of what was loaded.
    """
    last, loaded_from = state.get("last_day"), state.get("first_day")
    if not last:
        return _span(first_day, today)
    start = max(first_day, date.fromisoformat(last) - timedelta(days=max(trailing_days, 1) - 1))
    earlier = _span(first_day, date.fromisoformat(loaded_from) - timedelta(days=1)) if loaded_from else []
    return earlier + _span(start, today)


def _span(first: date, last: date) -> List[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def daily_series(
    get: Callable[[str, Dict[str, str]], Any],
    path: str,
    params: Callable[[date], Dict[str, str]],
    to_row: Callable[[date, Any], Row],
    state: MutableMapping[str, Any],
    first_day: date,
    trailing_days: int,
) -> Iterator[Row]:
    days = days_to_ask(state, first_day, trailing_days, datetime.now(timezone.utc).date())
    for day in days:
        yield to_row(day, get(path, params(day)))
    if days:
        state["last_day"] = days[-1].isoformat()
        loaded_from = state.get("first_day")
        state["first_day"] = (
            min(first_day, date.fromisoformat(loaded_from)).isoformat() if loaded_from else first_day.isoformat()
        )


def nps_row(day: date, body: Any) -> Row:
    if not isinstance(body, dict):
        raise ApiError(f"GET /v1/nps_summary: expected an object for {day}, got {type(body).__name__}")
    return {"day": day, **body}


def email_stats_row(day: date, body: Any) -> Row:
    if not isinstance(body, dict):
        raise ApiError(f"GET /v2/email_stats: expected an object for {day}, got {type(body).__name__}")
    stats = dict(body.get("email_stats") or {})
    raw = dict(stats.pop("raw_results", None) or {})
    # the API spells it `sart_date`; keep both spellings readable as `start_date`
    if "sart_date" in raw and "start_date" not in raw:
        raw["start_date"] = raw.pop("sart_date")
    for key in ("start_date", "end_date"):
        if raw.get(key):
            raw[key] = to_utc(raw[key])
    return {"day": day, **stats, "raw_results": raw, **{k: v for k, v in body.items() if k != "email_stats"}}


def segment_rows(body: Any) -> Iterator[Row]:
    for segment in body or []:
        yield {**segment, "created_at": to_utc(segment.get("created_at"))}


def survey_template_rows(body: Any) -> Iterator[Row]:
    default_id = (body or {}).get("default_survey_template_id")
    for template in (body or {}).get("survey_templates") or []:
        yield {**template, "is_default": template.get("id") == default_id}


def email_source_rows(body: Any) -> Iterator[Row]:
    # ongoing sources have text ids, CSV sends numeric ones: one text column holds both
    for kind, key in (("ongoing", "ongoing"), ("send", "sends")):
        for source in (body or {}).get(key) or []:
            yield {**source, "id": str(source.get("id")), "kind": kind}
