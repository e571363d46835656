"""Woku's page envelope as a dlt paginator: `{"data": [...], "total": N, "page": p, "limit": l}`."""

from typing import Any, Dict, List, Optional, Tuple

from dlt.sources.helpers.rest_client.paginators import BasePaginator
from requests import Request, Response

from sources.http_kit import ApiError
from sources.woku.settings import PAGE_LIMIT

Record = Dict[str, Any]


class EnvelopePaginator(BasePaginator):
    """`page`/`limit` pages until `total` records were seen, or a page comes back empty or short.

    A bare JSON array is one whole page (the official SDK reads it so too).
    """

    def __init__(self, path: str, limit: int = PAGE_LIMIT) -> None:
        super().__init__()
        self.path = path
        self.limit = limit
        self._seen = 0
        self._page = 0
        self._previous: Optional[List[Any]] = None

    def init_request(self, request: Request) -> None:
        request.params.update({"page": 1, "limit": self.limit})
        self._seen, self._page, self._previous = 0, 0, None

    def update_state(self, response: Response, data: Optional[List[Any]] = None) -> None:
        items, total, limit = envelope(response.json(), self.path)
        self._page += 1
        ids = [record.get("_id") if isinstance(record, dict) else record for record in items]
        if items and ids == self._previous:
            # a server that ignores `page` would be paged without end
            raise ApiError(f"GET {self.path}: page {self._page} repeats page {self._page - 1}; refusing to page on")
        self._previous = ids
        self._seen += len(items)
        if total is not None and self._page > -(-total // max(limit, 1)) + 1:
            raise ApiError(
                f"GET {self.path}: page {self._page} is past the {total:,} records the API announced; refusing to"
                " page on"
            )
        if total is None or not items or self._seen >= total or len(items) < limit:
            self._has_next_page = False

    def update_request(self, request: Request) -> None:
        request.params["page"] += 1

    def records(self, body: Any) -> List[Record]:
        """The records of one page's body (ApiClient.paginate's `select`)."""
        return envelope(body, self.path)[0]


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
