"""Woku over HTTP: the shared ApiClient with a bearer API key, and the page envelope
`{"data": [...], "total": N, "page": p, "limit": l}` read to its end."""

import itertools
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple

from dlt.common.configuration.specs import CredentialsConfiguration, configspec
from dlt.common.typing import TSecretStrValue

from sources.http_kit import ApiClient, ApiError, RateLimitPacer, RetryPolicy, StaticBearerAuth
from sources.http_kit.config import HttpLimits
from sources.record_kit.timestamps import to_utc
from sources.woku.settings import PAGE_LIMIT

Record = Dict[str, Any]


@configspec
class WokuCredentials(CredentialsConfiguration):
    """The company API key (Woku dashboard, Settings > API Keys)."""

    api_key: TSecretStrValue = None


class WokuClient:
    """Reads and writes the Woku Client API; lists are paged until `total` is reached or a page is short."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        limit: int = PAGE_LIMIT,
        retry: RetryPolicy = RetryPolicy(),
        timeout: float = 60.0,
        limits: Optional[HttpLimits] = None,
    ) -> None:
        self.limit = limit
        self.api = ApiClient(
            base_url,
            auth=StaticBearerAuth(api_key, "Woku API key"),
            pacer=RateLimitPacer(),  # Woku announces no budget; its 429s carry Retry-After
            retry=retry,
            timeout=(10.0, timeout),
            limits=limits,
            section="sources.woku",
        )

    def get(self, path: str, params: Optional[Mapping[str, Any]] = None) -> Any:
        return self.api.get(path, params)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.api.request("POST", path, **kwargs)

    def pages(self, path: str, params: Optional[Mapping[str, Any]] = None) -> Iterator[List[Record]]:
        """Every page of a list: `page`/`limit` until `total` records were seen (every page but the last
        brings at least one), or a page comes back empty or short. A bare JSON array is one whole page
        (the official SDK reads it so too)."""
        seen, previous = 0, None
        for page in itertools.count(1):
            items, total, limit = envelope(self.get(path, {**(params or {}), "page": page, "limit": self.limit}), path)
            ids = [record.get("_id") if isinstance(record, dict) else record for record in items]
            if items and ids == previous:
                # a server that ignores `page` would send its first page again until `total`
                raise ApiError(f"GET {path}: page {page} repeats page {page - 1}; refusing to page on")
            previous, seen = ids, seen + len(items)
            if items:
                yield items
            if total is None or not items or seen >= total or len(items) < limit:
                return

    def pages_since(
        self, path: str, floor: Optional[Any], params: Optional[Mapping[str, Any]] = None
    ) -> Iterator[List[Record]]:
        """A newest-first list down to `floor` (a datetime, inclusive): older pages are not requested."""
        for items in self.pages(path, params):
            if floor is None:
                yield items
                continue
            created = [_created(r) for r in items]
            fresh = [r for r, c in zip(items, created, strict=True) if c is None or c >= floor]
            if fresh:
                yield fresh
            # stop only where the page shows the newest-first order: then every later page is older
            known = [c for c in created if c is not None]
            if known and known[-1] < floor and all(a >= b for a, b in zip(known, known[1:], strict=False)):
                return

    def close(self) -> None:
        self.api.close()


def envelope(body: Any, path: str) -> Tuple[List[Record], Optional[int], int]:
    """The records, the announced total (None for a bare array) and the page size of one page."""
    if isinstance(body, list):
        return body, None, len(body)
    if isinstance(body, dict) and isinstance(body.get("data"), list):
        total = body.get("total")
        if isinstance(total, bool) or not isinstance(total, (int, float)):
            raise ApiError(f"GET {path}: the page envelope has no numeric total")
        limit = body.get("limit")
        return body["data"], int(total), int(limit) if isinstance(limit, (int, float)) and limit > 0 else PAGE_LIMIT
    raise ApiError(f"GET {path}: expected a page envelope or a JSON list, got {type(body).__name__}")


def _created(record: Record) -> Any:
    try:
        return to_utc(record.get("createdAt"))
    except (TypeError, ValueError):
        return None
