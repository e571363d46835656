"""Wootric over HTTP: its settings checked before any request, and the shared ApiClient with
Wootric's auth, pacing and record shapes."""

import os
import re
import time
from typing import Any, Callable, Dict, List, Optional

from dlt.common.runtime import run_context

from sources.http_kit import ApiClient, ApiError, ConfigError, RateLimitPacer, RetryPolicy, client_settings, config
from sources.http_kit.config import HttpLimits
from sources.record_kit.answers import require_key
from sources.record_kit.timestamps import convert_fields
from sources.wootric.helpers.auth import WootricAuth
from sources.wootric.helpers.credentials import WootricCredentials, WootricPasswordCredentials
from sources.wootric.helpers.paginator import CursorWalk, Record
from sources.wootric.helpers.tables import as_int64
from sources.wootric.settings import (
    MAX_PER_PAGE,
    NOTE_TIMESTAMP_FIELDS,
    REGION_HOSTS,
    REGION_TOKEN_PREFIXES,
    STREAMS,
    TIMESTAMP_FIELDS,
)

SECTION = "sources.wootric"
#: what identifies a record that lacks its id (never an email or a name: those are personal data)
_CLUES = ("end_user_id", "external_id", "survey_id", "created_at", "updated_at")


class WootricClient:
    """Reads Wootric's list endpoints; every record comes back with UTC datetimes."""

    def __init__(
        self,
        base_url: str,
        credentials: WootricCredentials,
        *,
        per_page: int,
        retry: RetryPolicy = RetryPolicy(),
        timeout: float = 60.0,
        token_dir: Optional[str] = None,
        clock: Callable[[], float] = time.time,
        limits: Optional[HttpLimits] = None,
    ) -> None:
        self.per_page = per_page
        http = {"retry": retry, "timeout": (10.0, timeout), "limits": limits, "section": SECTION}
        self.api = ApiClient(base_url, pacer=RateLimitPacer(), **http)
        token_client = ApiClient(base_url, session=self.api.session, **http)
        self.auth = WootricAuth(token_client, credentials, token_dir, clock)
        self.api.auth = self.auth

    def list_page(self, stream: str, params: Dict[str, Any], page: int) -> List[Record]:
        spec = STREAMS[stream]
        # the walk asks for a page one record shorter at times (`per_page` in `params`)
        body = self.api.get(spec.path, {**spec.params, "per_page": self.per_page, **params, "page": page})
        if not isinstance(body, list):
            raise ApiError(f"GET {spec.path}: expected a JSON list, got {type(body).__name__}")
        cursor = spec.cursor_field
        for position, record in enumerate(body, 1):
            if type(record) is not dict or type(record.get("id")) is not int:
                # the merge key: a record without one stops the run in one line naming it; an id
                # sent as text (`"123"`) is the integer it spells
                require_key(record, "id", stream, position, _CLUES)
                record["id"] = as_int64(record["id"])
            convert_fields(record, TIMESTAMP_FIELDS[stream], required=cursor)
            value = record.get(cursor)
            if value is not None and value.microsecond:
                # the API filters by whole seconds: a fraction would let dlt's range check drop
                # a record that the API, rightly, returned for the second it started from
                record[cursor] = value.replace(microsecond=0)
            notes = record.get("notes")
            if stream == "responses" and isinstance(notes, list):
                for note in notes:
                    if isinstance(note, dict):
                        convert_fields(note, NOTE_TIMESTAMP_FIELDS)
        return body

    def walker(self, stream: str) -> CursorWalk:
        """A walk over one stream; its `pages(start, end)` yields each record once."""
        spec = STREAMS[stream]
        return CursorWalk(
            lambda params, page: self.list_page(stream, params, page),
            filter_param=spec.filter_param,
            cursor_field=spec.cursor_field,
            per_page=self.per_page,
            recheck_crowded=spec.records_move,
            stream=stream,
        )


def build_client(
    credentials: WootricCredentials,
    region: Optional[str],
    base_url: Optional[str],
    per_page: int,
    request_timeout: float,
    max_retries: int,
    http: HttpLimits,
) -> WootricClient:
    """The client from the source's settings, each checked before any request (the sync and
    `verify` build it alike, so both read the same host with the same limits)."""
    return WootricClient(
        resolve_base_url(region, base_url, credentials),
        credentials,
        per_page=check_per_page(per_page),
        # renewed tokens outlive the run only where a configured refresh token would be spent
        token_dir=os.path.join(run_context.active().data_dir, "tokens"),
        **client_settings(SECTION, request_timeout, max_retries, http),
    )


def resolve_base_url(region: Optional[str], base_url: Optional[str], credentials: WootricCredentials) -> str:
    """`base_url` wins (proxies, tests); else the region's host, the region named or read from the account token."""
    token_region = None
    if isinstance(credentials, WootricPasswordCredentials) and credentials.account_token:
        token = credentials.account_token.upper()
        token_region = next((r for prefix, r in REGION_TOKEN_PREFIXES.items() if token.startswith(prefix)), "us")
    if region is not None:
        region = str(region).strip().lower()
        if region not in REGION_HOSTS:
            raise ConfigError(
                f"{SECTION}.region: unknown region {region!r} (expected one of: {', '.join(REGION_HOSTS)})"
            )
        if token_region is not None and token_region != region:
            raise ConfigError(
                f"{SECTION}.region: {region!r} contradicts the account token, which belongs to region {token_region!r}"
            )
    if base_url:
        return config.check_http_url(base_url, f"{SECTION}.base_url")
    return REGION_HOSTS[region or token_region or "us"]


def check_per_page(value: Any) -> int:
    text = str(value).strip()
    if isinstance(value, bool) or not re.fullmatch(r"[1-9][0-9]*", text) or int(text) > MAX_PER_PAGE:
        raise ConfigError(f"{SECTION}.per_page: {value!r} is not a whole number from 1 to {MAX_PER_PAGE}")
    return int(text)
