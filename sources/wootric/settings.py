"""Wootric API constants: hosts, limits and the shape of each incremental stream."""

from dataclasses import dataclass, field
from typing import Any, Dict, Tuple

REGION_HOSTS: Dict[str, str] = {
    "us": "https://api.wootric.com",
    "eu": "https://api.wootric.eu",
    "au": "https://api.wootric.au",
}
#: account tokens of non-US accounts start with these prefixes (API reference, "Environments")
REGION_TOKEN_PREFIXES: Dict[str, str] = {"NPS-EU": "eu", "NPS-AU": "au"}

TOKEN_PATH = "/oauth/token"
#: the API refuses page > 30 on list endpoints
MAX_PAGE = 30
MAX_PER_PAGE = 50
DEFAULT_PER_PAGE = 50

#: timestamp fields per table that land as timezone-aware UTC timestamps
TIMESTAMP_FIELDS: Dict[str, Tuple[str, ...]] = {
    "end_users": ("created_at", "updated_at", "last_surveyed", "last_seen_at", "external_created_at"),
    "responses": ("created_at", "updated_at"),
    "declines": ("created_at", "updated_at"),
}
NOTE_TIMESTAMP_FIELDS = ("created_at", "updated_at")

#: records per Arrow table handed to dlt: enough to amortize per-table cost, few enough for memory
ARROW_BATCH_ROWS = 1000


@dataclass(frozen=True)
class StreamSpec:
    """How one list endpoint is walked."""

    path: str
    cursor_field: str
    filter_param: str
    params: Dict[str, str] = field(default_factory=dict)
    #: records move in the cursor order while we read (edits bump `updated_at`)
    records_move: bool = False


STREAMS: Dict[str, StreamSpec] = {
    # end users change after creation: walk `updated` so edits are picked up, not only new users
    "end_users": StreamSpec("/v1/end_users", "updated_at", "updated", {"sort_key": "updated_at"}, records_move=True),
    # `excluded_from_calculations=true` returns excluded responses too; the default hides them
    "responses": StreamSpec("/v1/responses", "created_at", "created", {"excluded_from_calculations": "true"}),
    "declines": StreamSpec("/v1/declines", "created_at", "created"),
}


#: BigQuery layout: tables partitioned by day on `created_at` (queries that filter on it scan only
#: those days) and clustered on the columns analysts filter and join by, the account first
BIGQUERY_LAYOUT: Dict[str, Dict[str, Any]] = {
    "responses": {"partition": "created_at", "cluster": ["account", "end_user_id", "survey_id"]},
    "declines": {"partition": "created_at", "cluster": ["account", "end_user_id", "survey_id"]},
    "end_users": {"partition": "created_at", "cluster": ["account", "email", "external_id"]},
}
