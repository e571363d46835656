"""Helpers the Wootric sandbox tests share: client credentials, epoch seconds, paging."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import requests

CREDS = {"grant_type": "client_credentials", "client_id": "sandbox-client", "client_secret": "sandbox-secret"}


def epoch(dt: datetime) -> int:
    return int(dt.timestamp())


def fetch_all(api: requests.Session, url: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for page in range(1, 31):
        r = api.get(url, params={**params, "page": page, "per_page": 50})
        assert r.status_code == 200, r.text
        out.extend(r.json())
        if len(r.json()) < 50:
            break
    return out
