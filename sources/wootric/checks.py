"""What `verify` compares for Wootric: responses, promoters, passives and detractors per month,
against the API's own `nps_summary` for that month (one request per month)."""

from datetime import datetime, timedelta
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import dlt
from dlt.sources import DltResource

from sources.http_kit import ApiError, config
from sources.http_kit.config import HttpLimits
from sources.record_kit.checks import TableCheck
from sources.wootric.helpers.client import SECTION, build_client
from sources.wootric.helpers.credentials import WootricCredentials
from sources.wootric.settings import DEFAULT_PER_PAGE

#: what nps_summary counts: responses with a score that are not excluded from calculations (the views'
#: rule too, analytics/wootric_nps.py)
_COUNTED = "COALESCE(excluded_from_calculations, FALSE) = FALSE AND score IS NOT NULL"


def _count(condition: str) -> str:
    return f"SUM(CASE WHEN {_COUNTED} AND {condition} THEN 1 ELSE 0 END)"


TABLES: Dict[str, TableCheck] = {
    "responses": TableCheck(
        "responses",
        "id",
        "created_at",
        "created_at",
        measures={
            "responses": _count("1 = 1"),
            "promoters": _count("score >= 9"),
            "passives": _count("score BETWEEN 7 AND 8"),
            "detractors": _count("score <= 6"),
        },
    ),
    "declines": TableCheck("declines", "id", "created_at", "created_at"),
    # end users are walked by their cursor, `updated_at`, and told apart by the month they were created
    "end_users": TableCheck("end_users", "id", "created_at", "updated_at"),
}


@dlt.source(name="wootric", section="wootric")
def wootric_totals(
    ranges: Any,
    credentials: WootricCredentials = dlt.secrets.value,
    region: Optional[str] = None,
    base_url: Optional[str] = None,
    per_page: int = DEFAULT_PER_PAGE,
    request_timeout: float = 60.0,
    max_retries: int = 6,
    account: str = "default",
    http: HttpLimits = dlt.config.value,
) -> List[DltResource]:
    """The API's totals per range (`[start, end)` on whole UTC days): one nps_summary request each.

    A source with the sync's settings, so each account resolves its own credentials and host; it is
    iterated, never loaded."""
    config.check_account(account, f"{SECTION}.account")
    client = build_client(credentials, region, base_url, per_page, request_timeout, max_retries, http)
    return [_totals(client.api.get, ranges)]


def _totals(get: Any, ranges: Sequence[Tuple[datetime, datetime]]) -> DltResource:
    @dlt.resource(name="totals", selected=True)
    def totals() -> Iterator[Dict[str, Any]]:
        for start, end in ranges:
            # both dates count whole days: the range's last day is the one before `end`
            last = (end - timedelta(days=1)).date()
            body = get("/v1/nps_summary", {"date[start]": start.date().isoformat(), "date[end]": last.isoformat()})
            if not isinstance(body, dict):
                raise ApiError(f"GET /v1/nps_summary: expected an object, got {type(body).__name__}")
            for measure in TABLES["responses"].measures:
                yield {"table": "responses", "measure": measure, "start": start, "api": _count_of(body, measure, start)}

    return totals


def _count_of(body: Dict[str, Any], measure: str, start: datetime) -> int:
    """A whole count, as documented; anything else would show a difference that is not there."""
    value = body.get(measure)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        shown = "absent" if measure not in body else repr(value)[:40]
        raise ApiError(f"GET /v1/nps_summary for {start:%Y-%m}: {measure} is {shown}, not a whole count")
    return value
