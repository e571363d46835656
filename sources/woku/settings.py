"""Woku Client API constants: host, paging, the list endpoints and what each record holds."""

import re
from typing import Dict, Tuple

DEFAULT_BASE_URL = "https://clientapi.woku.app"
#: the largest page the API serves; fewer requests, same records
PAGE_LIMIT = 100
#: responses re-read on every run, so text notes and voice notes added later arrive
DEFAULT_LOOKBACK_DAYS = 7
OBJECT_ID = re.compile(r"^[0-9a-fA-F]{24}$")

#: the score surveys -> the list of their responses
SURVEYS: Dict[str, str] = {"nps": "/v1/nps", "csat": "/v1/csat", "ces": "/v1/ces"}

#: the lists the API returns whole (paged), replaced per account on every run -> path and query
LISTS: Dict[str, Tuple[str, Dict[str, str]]] = {
    "nps_tools": ("/v1/nps-tools", {}),
    "csat_tools": ("/v1/csat-tools", {}),
    "ces_tools": ("/v1/ces-tools", {}),
    "wokus": ("/v1/wokus", {}),
    "forms": ("/v1/forms", {}),
    "flows": ("/v1/flows", {}),
    # inactive definitions too: their values stay readable, and analysts join on them
    "external_tracker_definitions": ("/v1/external-trackers", {"includeInactive": "true", "includeUsage": "true"}),
}

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
