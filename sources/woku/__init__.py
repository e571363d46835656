"""Woku voice-of-customer data as a dlt source: NPS, CSAT and CES responses, wokus and their
reviews, forms and their responses, flows, and external trackers."""

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, Iterator, List, Optional

import dlt
from dlt.common.configuration.inject import with_config
from dlt.sources import DltResource

from sources.http_kit import client_settings, config
from sources.http_kit.config import HttpLimits
from sources.record_kit.accounts import ACCOUNT, REPLACE_ACCOUNT, account_hints
from sources.record_kit.history import history_resource
from sources.record_kit.timestamps import to_utc
from sources.woku.helpers.client import WokuClient, WokuCredentials
from sources.woku.helpers.records import (
    history_columns,
    history_name,
    history_rows,
    iso,
    require_id,
    tagged,
)
from sources.woku.helpers.trackers import (
    is_tracker_item,
    keep_table_with_its_resource,
    loaded_resources,
    read_marker,
    tracker_hints,
    tracker_values,
    with_tracker_table,
)
from sources.woku.settings import (
    DEFAULT_BASE_URL,
    DEFAULT_LOOKBACK_DAYS,
    JSON_COLUMNS,
    LISTS,
    SURVEYS,
    TRACKED_LISTS,
    TRACKER_TABLE,
)

__all__ = ["woku_client", "woku_source"]

SECTION = "sources.woku"
#: source-state key: a token per extract of each parent list
_EXTRACTS = "extracts"


@with_config(sections=("sources", "woku"))
def woku_client(
    credentials: WokuCredentials = dlt.secrets.value,
    base_url: str = DEFAULT_BASE_URL,
    request_timeout: float = 60.0,
    max_retries: int = 6,
    http: HttpLimits = dlt.config.value,
) -> WokuClient:
    """The API client from the same settings the source reads (write-back uses it too); checked
    before any request, so a bad value stops the run with its name."""
    url = config.check_http_url(base_url, f"{SECTION}.base_url")
    return WokuClient(url, credentials.api_key, **client_settings(SECTION, request_timeout, max_retries, http))


@dlt.source(name="woku", section="woku")
def woku_source(
    credentials: WokuCredentials = dlt.secrets.value,
    base_url: str = DEFAULT_BASE_URL,
    start_date: Optional[str] = None,
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
    request_timeout: float = 60.0,
    max_retries: int = 6,
    account: str = "default",
    history: bool = False,
    http: HttpLimits = dlt.config.value,
) -> List[DltResource]:
    """Every table carries `account` and is merged on (`account`, `_id`), ready for several companies.

    `history` selects `nps_responses_history`, `csat_responses_history` and `ces_responses_history`
    (every version of each response's score and text note; `--resources` can name them too).

    Settings are checked here, before any request, so a bad value stops the run with its name.
    """
    account = config.check_account(account, f"{SECTION}.account")
    client = woku_client(credentials, base_url, request_timeout, max_retries, http)
    initial = config.parse_start_date(start_date, f"{SECTION}.start_date")
    lookback = timedelta(days=config.check_non_negative(lookback_days, f"{SECTION}.lookback_days"))
    # responses created after this instant wait for the next run: pages stay stable while we read
    until = datetime.now(timezone.utc)

    surveys = [_survey_responses(client, account, kind, initial, lookback, until) for kind in SURVEYS]
    lists = {name: _whole_list(client, account, name) for name in LISTS}
    reviews = _children(client, account, "wokus", "woku_reviews", "/v1/wokus/{id}/reviews", initial, lookback)
    form_responses = _children(
        client, account, "forms", "form_responses", "/v1/forms/{id}/responses", initial, lookback
    )
    return [
        *surveys,
        *[
            history_resource(survey, history_name(kind), history_columns(), bool(history), history_rows)
            for survey, kind in zip(surveys, SURVEYS, strict=True)
        ],
        *lists.values(),
        lists["wokus"] | reviews,
        lists["forms"] | form_responses,
        _tracker_values(client, account),
    ]


def _hints(table: str) -> Dict[str, Dict[str, Any]]:
    hints: Dict[str, Dict[str, Any]] = account_hints()
    for name in JSON_COLUMNS.get(table, ()):
        hints[name] = {"data_type": "json"}
    return hints


def _survey_responses(
    client: WokuClient, account: str, kind: str, initial: Optional[datetime], lookback: timedelta, until: datetime
) -> DltResource:
    """GET /v1/{nps,csat,ces} from the last loaded `createdAt` minus the look-back, up to the run's start."""
    name = f"{kind}_responses"
    lag = lookback.total_seconds() or None

    def responses(
        # `lag` re-reads the look-back window, so text and voice notes added later arrive; merge on
        # `_id` keeps one row per response (dlt's own boundary dedup is off: it would drop edits)
        created: dlt.sources.incremental[datetime] = dlt.sources.incremental[datetime](
            "createdAt",
            initial_value=initial,
            range_start="closed",
            primary_key=(),
            lag=lag,
        ),
    ) -> Iterator[List[Dict[str, Any]]]:
        start = created.last_value
        end = created.end_value or until
        params = {"to": iso(end)}
        if start is not None:
            params["from"] = iso(start)
        for page in client.pages(SURVEYS[kind], params):
            yield tagged(page, account, name, cursor="createdAt")

    return dlt.resource(
        responses, name=name, write_disposition="merge", primary_key=(ACCOUNT, "_id"), columns=_hints(name)
    )()


def _whole_list(client: WokuClient, account: str, name: str) -> DltResource:
    """A list replaced per account; a tool, form, flow or woku list also yields its records' tracker
    values to `external_tracker_values` (one request per record, no second paging of the list)."""
    entity_type = TRACKED_LISTS.get(name)

    def listed() -> Iterator[Any]:
        # a new token per extract: the transformers below (called once per page of this list) use
        # it to tell this extract's first page from the next ones
        dlt.current.source_state().setdefault(_EXTRACTS, {})[name] = uuid.uuid4().hex
        # values only when this list loads, not when it merely feeds woku_reviews or form_responses
        with_values = entity_type is not None and name in loaded_resources()
        found = False
        for page in client.pages(*LISTS[name]):
            rows = tagged(page, account, name)
            ids = [row["_id"] for row in rows]
            yield rows
            values = tracker_values(client, account, entity_type, ids) if with_values else []
            if values:
                found = True
                yield dlt.mark.with_table_name(values, TRACKER_TABLE)
                keep_table_with_its_resource()
        if with_values and not found:  # none left: the marker makes the load clear the type's old values
            yield dlt.mark.with_table_name([read_marker(account, entity_type)], TRACKER_TABLE)
            keep_table_with_its_resource()

    resource = dlt.resource(
        listed,
        name=name,
        write_disposition=REPLACE_ACCOUNT,
        primary_key=(ACCOUNT, "_id"),
        merge_key=ACCOUNT,
        columns=_hints(name),
    )()
    return with_tracker_table(resource) if entity_type else resource


def _children(
    client: WokuClient,
    account: str,
    parent_name: str,
    name: str,
    path: str,
    initial: Optional[datetime],
    lookback: timedelta,
) -> DltResource:
    """Reviews of each woku, responses of each form: newest first, down to the previous runs' newest
    record minus the look-back (the lists have no date filter)."""

    @dlt.transformer(
        name=name, write_disposition="merge", primary_key=(ACCOUNT, "_id"), columns=_hints(name), parallelized=False
    )
    def children(parents: List[Dict[str, Any]], meta: Any = None) -> Iterator[List[Dict[str, Any]]]:
        if is_tracker_item(meta):
            return  # the parent list's tracker values, not records of the list
        state = dlt.current.resource_state()
        # dlt calls this once per page of parents; the floor must come from before this extract,
        # not from the reviews an earlier page of this same extract has just seen
        token = dlt.current.source_state().get(_EXTRACTS, {}).get(parent_name)
        if token is None or state.get("extract") != token:
            state["extract"], state["base"] = token, state.get("newest_created_at")
        base = to_utc(state.get("base"))
        floor = base - lookback if base is not None else initial
        newest = to_utc(state.get("newest_created_at"))
        for parent in parents:
            for page in client.pages_since(path.format(id=parent["_id"]), floor):
                rows = tagged(page, account, name)
                for row in rows:
                    created = row.get("createdAt")
                    if isinstance(created, datetime) and (newest is None or created > newest):
                        newest = created
                yield rows
        if newest is not None:
            state["newest_created_at"] = newest.isoformat()

    return children


def _tracker_values(client: WokuClient, account: str) -> DltResource:
    """The tracker values of the lists this run does not load, paging each of them: what
    `--resources external_tracker_values` reads. A list that loads yields its own values, so this is
    off by default, and with every list loaded it sends no request."""

    def values() -> Iterator[List[Dict[str, Any]]]:
        loaded = loaded_resources()
        for name, entity_type in TRACKED_LISTS.items():
            if name in loaded:
                continue
            path, params = LISTS[name]
            found = False
            for page in client.pages(path, params):
                ids = [require_id(entity, path, position)["_id"] for position, entity in enumerate(page, 1)]
                rows = tracker_values(client, account, entity_type, ids)
                if rows:
                    found = True
                    yield rows
            if not found:  # as in the lists: the type's old values are cleared
                yield [read_marker(account, entity_type)]

    return dlt.resource(values, name=TRACKER_TABLE, selected=False, **tracker_hints())()
