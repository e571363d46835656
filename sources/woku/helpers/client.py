"""Woku over HTTP: the shared ApiClient with a bearer API key, and the page/limit envelope."""

from typing import Any, Dict, Iterator, List, Mapping, Optional

from sources.http_kit import ApiClient, RateLimitPacer, RetryPolicy, StaticBearerAuth
from sources.http_kit.limits import HttpLimits
from sources.woku.helpers.paginator import EnvelopePaginator
from sources.woku.helpers.records import parse_timestamp
from sources.woku.settings import PAGE_LIMIT

Record = Dict[str, Any]


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
        """Every page of a list, through the envelope paginator."""
        paginator = EnvelopePaginator(path, self.limit)
        yield from self.api.paginate(path, paginator, params, select=paginator.records)

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


def _created(record: Record) -> Any:
    try:
        return parse_timestamp(record.get("createdAt"))
    except (TypeError, ValueError):
        return None
