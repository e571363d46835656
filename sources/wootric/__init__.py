"""Wootric NPS/CSAT/CES data as a dlt source: end users, responses and declines, incremental and exact."""

from datetime import date, datetime, timedelta, timezone
from typing import Any, Dict, List, Optional, Sequence

import dlt
from dlt.sources import DltResource

from sources.http_kit import config
from sources.http_kit.config import HttpLimits
from sources.record_kit.accounts import ACCOUNT, REPLACE_ACCOUNT
from sources.record_kit.history import history_resource
from sources.wootric.helpers.boundary import Boundary
from sources.wootric.helpers.client import SECTION, WootricClient, build_client
from sources.wootric.helpers.credentials import WootricCredentials
from sources.wootric.helpers.history import HISTORY_RESOURCE, history_columns, history_table
from sources.wootric.helpers.metrics import (
    daily_series,
    email_source_rows,
    email_stats_row,
    nps_row,
    segment_rows,
    survey_template_rows,
)
from sources.wootric.helpers.paginator import epoch_seconds
from sources.wootric.helpers.tables import column_hints, to_table
from sources.wootric.settings import ARROW_BATCH_ROWS, DEFAULT_PER_PAGE, STREAMS

__all__ = ["wootric_source"]


@dlt.source(name="wootric", section="wootric")
def wootric_source(
    credentials: WootricCredentials = dlt.secrets.value,
    region: Optional[str] = None,
    base_url: Optional[str] = None,
    start_date: Optional[str] = None,
    per_page: int = DEFAULT_PER_PAGE,
    request_timeout: float = 60.0,
    max_retries: int = 6,
    responses_lookback_days: int = 7,
    metrics_start_date: Optional[str] = None,
    metrics_trailing_days: int = 3,
    account: str = "default",
    history: bool = False,
    http: HttpLimits = dlt.config.value,
) -> List[DltResource]:
    """End users (cursor `updated_at`), responses and declines (cursor `created_at`), merged on (`account`, `id`).

    Each account is its own source instance (`wootric_source.with_args(name=account)`) with its own
    state. Settings are checked here, so a bad value stops the run, with its name, before any request.
    """
    account = config.check_account(account, f"{SECTION}.account")
    client = build_client(credentials, region, base_url, per_page, request_timeout, max_retries, http)
    initial = config.parse_start_date(start_date, f"{SECTION}.start_date")
    lookback = config.check_non_negative(responses_lookback_days, f"{SECTION}.responses_lookback_days")
    streams = [
        _stream_resource(client, account, name, initial, lookback if name == "responses" else 0) for name in STREAMS
    ]
    first_day = config.parse_start_date(metrics_start_date, f"{SECTION}.metrics_start_date") or initial
    first_day = first_day or datetime.now(timezone.utc) - timedelta(days=365)
    trailing = config.check_non_negative(metrics_trailing_days, f"{SECTION}.metrics_trailing_days")
    responses = streams[list(STREAMS).index("responses")]
    return [
        *streams,
        history_resource(
            responses, HISTORY_RESOURCE, history_columns(column_hints("responses")), bool(history), history_table
        ),
        *_summary_resources(client, account, first_day.date(), trailing),
    ]


def _summary_resources(client: WootricClient, account: str, first_day: date, trailing_days: int) -> List[DltResource]:
    """The summary endpoints. The two daily series cost one request per day, and `nps_daily` (built
    from responses) reproduces nps_summary exactly, so they run only when named in `--resources`."""
    get = client.api.get

    def daily(name: str, path: str, params: Any, to_row: Any) -> DltResource:
        @dlt.resource(name=name, write_disposition="merge", primary_key=(ACCOUNT, "day"), selected=False)
        def series() -> Any:
            state = dlt.current.resource_state()
            for row in daily_series(get, path, params, to_row, state, first_day, trailing_days):
                yield {ACCOUNT: account, **row}

        return series

    nps_summary = daily(
        "nps_summary", "/v1/nps_summary", lambda d: {"date[start]": d.isoformat(), "date[end]": d.isoformat()}, nps_row
    )
    email_stats = daily(
        "email_stats",
        "/v2/email_stats",
        lambda d: {"date_range[start_date]": d.isoformat(), "date_range[end_date]": d.isoformat()},
        email_stats_row,
    )

    # small lists the API returns whole: the account's rows are replaced on every run, so deletions show too
    def whole_list(name: str, path: str, to_rows: Any, key: Sequence[str]) -> DltResource:
        @dlt.resource(name=name, write_disposition=REPLACE_ACCOUNT, primary_key=(ACCOUNT, *key), merge_key=ACCOUNT)
        def listed() -> Any:
            yield [{ACCOUNT: account, **row} for row in to_rows(get(path))]

        return listed

    segments = whole_list("segments", "/v1/segments", segment_rows, ("name",))
    survey_templates = whole_list("survey_templates", "/v1/survey_templates", survey_template_rows, ("id",))
    email_stats_sources = whole_list(
        "email_stats_sources", "/v2/email_stats/sources", email_source_rows, ("kind", "id")
    )

    return [nps_summary, email_stats, segments, survey_templates, email_stats_sources]


def _stream_resource(
    client: WootricClient, account: str, name: str, initial_value: Any, lookback_days: int
) -> DltResource:
    spec = STREAMS[name]
    columns = column_hints(name)
    # one run may see an end user twice (updated while we read); keep its newest version
    columns[spec.cursor_field]["dedup_sort"] = "desc"

    def records(
        # Closed start: the last loaded second (and, with `lag`, the look-back) is read again, and
        # `Boundary` passes on what changed (primary_key=() turns off dlt's check, which drops edits).
        # Typed, so an external scheduler's interval (Airflow backfills) can be joined.
        cursor: dlt.sources.incremental[datetime] = dlt.sources.incremental[datetime](
            spec.cursor_field,
            initial_value=initial_value,
            range_start="closed",
            primary_key=(),
            lag=lookback_days * 86400 or None,
        ),
    ) -> Any:
        start = epoch_seconds(cursor.last_value) if cursor.last_value is not None else None
        end = epoch_seconds(cursor.end_value) if cursor.end_value is not None else None
        # a bounded run (backfill of an interval) saves no state and skips nothing
        state = dlt.current.resource_state() if end is None else {}
        boundary = Boundary(state, spec.cursor_field, "updated_at" if lookback_days else None)
        walker = client.walker(name)
        batch: List[Dict[str, Any]] = []
        for page in walker.pages(start, end):
            batch.extend(boundary.fresh(page))
            if len(batch) >= ARROW_BATCH_ROWS:
                yield to_table(name, batch, account)
                batch = []
        if batch:
            yield to_table(name, batch, account)
        if end is None:
            boundary.save(walker)

    return dlt.resource(records, name=name, write_disposition="merge", primary_key=(ACCOUNT, "id"), columns=columns)()
