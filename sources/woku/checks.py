"""What `verify` compares for Woku: the NPS, CSAT and CES responses of each month against the
envelope's `total` for that month's `from`/`to` (one request of one record per survey and month)."""

from datetime import datetime, timedelta
from typing import Any, Dict, Iterator, List, Sequence, Tuple

import dlt
from dlt.sources import DltResource

from sources.http_kit import ApiError, config
from sources.http_kit.config import HttpLimits
from sources.record_kit.checks import TableCheck
from sources.woku import woku_client
from sources.woku.helpers.client import WokuClient, WokuCredentials
from sources.woku.helpers.records import iso
from sources.woku.settings import DEFAULT_BASE_URL, SURVEYS

TABLES: Dict[str, TableCheck] = {
    f"{kind}_responses": TableCheck(
        f"{kind}_responses", "_id", "createdAt", "createdAt", id_column="_id", measures={"responses": "COUNT(*)"}
    )
    for kind in SURVEYS
}


@dlt.source(name="woku", section="woku")
def woku_totals(
    ranges: Any,
    credentials: WokuCredentials = dlt.secrets.value,
    base_url: str = DEFAULT_BASE_URL,
    request_timeout: float = 60.0,
    max_retries: int = 6,
    account: str = "default",
    http: HttpLimits = dlt.config.value,
) -> List[DltResource]:
    """The API's number of responses per survey and range (`[start, end)`), read from `total`.

    A source of its own with the sync's settings (`woku_totals.with_args(name=account)`), iterated only."""
    config.check_account(account, "sources.woku.account")
    client = woku_client(credentials, base_url, request_timeout, max_retries, http)
    return [_totals(client, ranges)]


def _totals(client: WokuClient, ranges: Sequence[Tuple[datetime, datetime]]) -> DltResource:
    @dlt.resource(name="totals", selected=True)
    def totals() -> Iterator[Dict[str, Any]]:
        for start, end in ranges:
            # `to` includes its millisecond: the range ends one before `end`
            params = {"from": iso(start), "to": iso(end - timedelta(milliseconds=1)), "page": 1, "limit": 1}
            for kind, path in SURVEYS.items():
                body = client.get(path, params)
                if not isinstance(body, dict) or not isinstance(body.get("total"), int):
                    raise ApiError(f"GET {path}: expected the {{data, total}} envelope with a total")
                yield {"table": f"{kind}_responses", "measure": "responses", "start": start, "api": body["total"]}

    return totals
