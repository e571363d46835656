"""Wootric over HTTP: the shared ApiClient with Wootric's auth, pacing and record shapes."""

import os
import time
from typing import Any, Callable, Dict, List, Optional

from dlt.common.runtime import run_context

from sources.http_kit import ApiClient, ApiError, RateLimitPacer, RetryPolicy
from sources.http_kit.limits import HttpLimits
from sources.record_kit.answers import as_int64, require_key
from sources.record_kit.timestamps import convert_fields, nested_convert
from sources.wootric.helpers.auth import WootricAuth
from sources.wootric.helpers.config import SECTION, check_per_page, check_positive, resolve_base_url
from sources.wootric.helpers.credentials import WootricCredentials
from sources.wootric.helpers.paginator import CursorWalk, Record
from sources.wootric.settings import NOTE_TIMESTAMP_FIELDS, STREAMS, TIMESTAMP_FIELDS


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
        # the walk's seam check asks for a page of another size (`per_page` in `params`)
        body = self.api.get(spec.path, {**spec.params, "per_page": self.per_page, **params, "page": page})
        if not isinstance(body, list):
            raise ApiError(f"GET {spec.path}: expected a JSON list, got {type(body).__name__}")
        fields = TIMESTAMP_FIELDS[stream]
        cursor = spec.cursor_field
        for position, record in enumerate(body, 1):
            if type(record) is not dict or type(record.get("id")) is not int:
                _check_id(stream, record, position)
            convert_fields(record, fields, required=cursor)
            value = record.get(cursor)
            if value is not None and value.microsecond:
                # the API filters by whole seconds: a fraction would let dlt's range check drop
                # a record that the API, rightly, returned for the second it started from
                record[cursor] = value.replace(microsecond=0)
            if stream == "responses":
                nested_convert(record, "notes", NOTE_TIMESTAMP_FIELDS)
        return body

    def get(self, path: str, params: Optional[Dict[str, Any]] = None) -> Any:
        """One answer of a small endpoint (segments, templates, daily summaries)."""
        return self.api.get(path, params)

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

    def close(self) -> None:
        self.api.close()


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
        retry=RetryPolicy(max_attempts=int(check_positive("max_retries", max_retries))),
        timeout=check_positive("request_timeout", request_timeout),
        # renewed tokens outlive the run only where a configured refresh token would be spent
        token_dir=os.path.join(run_context.active().data_dir, "tokens"),
        limits=http.checked(SECTION),
    )


#: what identifies a record that lacks its id (never an email or a name: those are personal data)
_CLUES = ("end_user_id", "external_id", "survey_id", "created_at", "updated_at")


def _check_id(stream: str, record: Any, position: int) -> None:
    """Every record must have its id, the merge key: a record without one stops the run in one line
    naming it. An id sent as text (`"123"`) is the integer it spells (ids are integers in the API)."""
    require_key(record, "id", stream, position, _CLUES)
    record["id"] = as_int64(record["id"])
