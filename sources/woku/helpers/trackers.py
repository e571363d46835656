"""`external_tracker_values`, read by the lists whose records carry them (one request per record).

Each of the six tracked lists yields its records' values as it pages them, to a dlt table variant of
the list resource, so no list is paged twice. A load replaces only the entity types it read
(delete-insert on `account`, `entity_type`); a read that finds no value yields one `read_marker` row
instead, flagged as dlt's hard delete: never stored, its keys clear that type's old values. The
resource `external_tracker_values` reads the values of the lists a run does not load.
"""

from typing import Any, Dict, Iterable, List, Set

import dlt
from dlt.sources import DltResource

from sources.http_kit import ApiError
from sources.record_kit.accounts import ACCOUNT, REPLACE_ACCOUNT, account_hints
from sources.woku.helpers.client import WokuClient, envelope
from sources.woku.helpers.records import tagged
from sources.woku.settings import TRACKER_TABLE

#: what one load replaces: the entity types it read, per account; the other types' rows stay
TRACKER_MERGE_KEY = (ACCOUNT, "entity_type")
#: dlt's hard-delete column: true only on the marker rows (never stored), NULL on every value
MARKER = "_read_marker"


def tracker_hints() -> Dict[str, Any]:
    """The table's hints, the same whether a list or `external_tracker_values` writes it."""
    return {
        "write_disposition": REPLACE_ACCOUNT,
        "primary_key": (ACCOUNT, "_id"),
        "merge_key": TRACKER_MERGE_KEY,
        "columns": {
            **account_hints(),
            "entity_type": {"data_type": "text"},
            MARKER: {"data_type": "bool", "hard_delete": True},
        },
    }


def read_marker(account: str, entity_type: str) -> Dict[str, Any]:
    """The row that says "this load read every `entity_type` value of `account`" (module docstring)."""
    return {ACCOUNT: account, "entity_type": entity_type, "_id": f"{entity_type}:read", MARKER: True}


def with_tracker_table(resource: DltResource) -> DltResource:
    """Lets the list `resource` yield rows to the tracker table under that table's own keys."""
    # a variant starts as a copy of the list's hints: drop the list's columns (its JSON hints would
    # become columns of the tracker table) before setting the tracker table's own
    resource.apply_hints(table_name=TRACKER_TABLE, columns={}, create_table_variant=True)
    resource.apply_hints(table_name=TRACKER_TABLE, create_table_variant=True, **tracker_hints())
    return resource


def tracker_values(client: WokuClient, account: str, entity_type: str, ids: Iterable[str]) -> List[Dict[str, Any]]:
    """The values on each record of one list page, tagged: one request per record."""
    route = "wokus" if entity_type == "woku" else entity_type
    rows: List[Dict[str, Any]] = []
    for entity_id in ids:
        path = f"/v1/external-trackers/{route}/{entity_id}"
        # documented as a list; a page envelope is read too, but only as one whole page
        found, total, _ = envelope(client.get(path) or [], path)
        if total is not None and total > len(found):
            raise ApiError(
                f"GET {path}: the API announced {total:,} tracker values and sent {len(found):,}; they are read"
                " in one request, so the rest would be lost"
            )
        rows += [{"entityType": entity_type, "entityId": entity_id, **_without(v, "wokuId")} for v in found]
    return tagged(rows, account, TRACKER_TABLE) if rows else []


def loaded_resources() -> Set[str]:
    """The resources this extract loads (`--resources`). A list that only feeds its transformers
    (`--resources woku_reviews`) is not among them and reads no values."""
    return set(dlt.current.source().selected_resources)


def is_tracker_item(meta: Any) -> bool:
    """True for the tracker rows a list yields: dlt hands every item of a list to its transformers
    (`woku_reviews`, `form_responses`), which must skip these."""
    return getattr(meta, "table_name", None) == TRACKER_TABLE


def keep_table_with_its_resource() -> None:
    """Files the tracker table under `external_tracker_values` again after a list wrote it.

    dlt files a table under the resource that last computed its schema, and a refresh of resource X
    (`--full-refresh --resources X`, `dlt pipeline drop X`) drops X's tables: filed under a list, the
    whole table would go with that list and only the list's own values would come back.
    """
    table = dlt.current.source_schema().tables.get(TRACKER_TABLE)
    if table is not None and table.get("resource") != TRACKER_TABLE:
        table["resource"] = TRACKER_TABLE


def _without(record: Dict[str, Any], key: str) -> Dict[str, Any]:
    return {k: v for k, v in record.items() if k != key}
