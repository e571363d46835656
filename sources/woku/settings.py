"""Woku Client API constants: host, paging, the list endpoints and what each record holds."""

import re
from dataclasses import dataclass, field
from typing import Dict, Tuple

DEFAULT_BASE_URL = "https://clientapi.woku.app"
#: the largest page the API serves; fewer requests, same records
PAGE_LIMIT = 100
#: responses re-read on every run, so text notes and voice notes added later arrive
DEFAULT_LOOKBACK_DAYS = 7
OBJECT_ID = re.compile(r"^[0-9a-fA-F]{24}$")

#: the lists whose records carry external tracker values -> their entity type. Each list reads its
#: records' values as it pages them, so no list is paged a second time for them
TRACKED_LISTS: Dict[str, str] = {
    "nps_tools": "nps",
    "csat_tools": "csat",
    "ces_tools": "ces",
    "forms": "form",
    "flows": "flow",
    "wokus": "woku",
}
#: entity types that carry external tracker values (`woku` has its own routes)
TRACKER_ENTITY_TYPES = tuple(TRACKED_LISTS.values())
#: the table of tracker values, and the name of the resource that owns it
TRACKER_TABLE = "external_tracker_values"


@dataclass(frozen=True)
class SurveySpec:
    """One of the three score surveys: its responses' list, its tools' list, the tool id field and scale."""

    path: str
    tools_path: str
    tool_field: str
    scale: Tuple[int, int]


SURVEYS: Dict[str, SurveySpec] = {
    "nps": SurveySpec("/v1/nps", "/v1/nps-tools", "npsToolId", (0, 10)),
    "csat": SurveySpec("/v1/csat", "/v1/csat-tools", "csatToolId", (1, 5)),
    "ces": SurveySpec("/v1/ces", "/v1/ces-tools", "cesToolId", (1, 5)),
}


@dataclass(frozen=True)
class ListSpec:
    """A list the API returns whole (paged): replaced per account on every run."""

    path: str
    params: Dict[str, str] = field(default_factory=dict)


LISTS: Dict[str, ListSpec] = {
    "nps_tools": ListSpec("/v1/nps-tools"),
    "csat_tools": ListSpec("/v1/csat-tools"),
    "ces_tools": ListSpec("/v1/ces-tools"),
    "wokus": ListSpec("/v1/wokus"),
    "forms": ListSpec("/v1/forms"),
    "flows": ListSpec("/v1/flows"),
    # inactive definitions too: their values stay readable, and analysts join on them
    "external_tracker_definitions": ListSpec(
        "/v1/external-trackers", {"includeInactive": "true", "includeUsage": "true"}
    ),
}

#: ISO timestamps to turn into UTC datetimes, by dotted path
TIMESTAMP_FIELDS = ("createdAt", "updatedAt", "textnote.createdAt", "voicemail.createdAt")

#: free-form nested values kept as one JSON column each (their keys differ per form or tool)
JSON_COLUMNS: Dict[str, Tuple[str, ...]] = {
    "form_responses": ("answers",),
    "forms": ("fields", "availableLocales"),
    "flows": ("branding", "wokuIds"),
    "nps_tools": ("localizedContent", "availableLocales"),
    "csat_tools": ("localizedContent", "availableLocales"),
    "ces_tools": ("localizedContent", "availableLocales"),
    "wokus": ("availableLocales",),
}
