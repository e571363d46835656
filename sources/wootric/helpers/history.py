"""Wootric's `responses_history`: each version of a response's score, text, tags and flags, built
from the Arrow tables `responses` already yields (no request of its own)."""

from typing import Any, Dict, List, Union

import pyarrow as pa

from sources.record_kit.accounts import ACCOUNT
from sources.record_kit.history import RECORD_KEY, VERSION_HASH, history_hints, record_key, version_hash

HISTORY_RESOURCE = "responses_history"
#: what an edit can change and analysts ask about; a change to any of these is a new version
TRACKED = ("score", "text", "tags", "excluded_from_calculations", "completed")
#: kept beside each version, not hashed: the vendor's time of the edit that version was first seen with
CARRIED = ("updated_at",)


def history_table(responses: Union[pa.Table, List[Dict[str, Any]]]) -> Any:
    """One version row per response of a `responses` batch (same Arrow types as `responses`).

    A load into BigQuery hands the batch on as rows, its JSON columns parsed (BigQuery takes JSON
    columns only as JSON values: pipelines/warehouse/bigquery.py): then the versions are rows too."""
    if not isinstance(responses, pa.Table):
        return [_version_row(row) for row in responses]
    accounts = responses.column(ACCOUNT).to_pylist()
    ids = responses.column("id").to_pylist()
    tracked = responses.select(list(TRACKED)).to_pylist()
    keys = [record_key(account, rid) for account, rid in zip(accounts, ids, strict=True)]
    hashes = [version_hash(key, row) for key, row in zip(keys, tracked, strict=True)]
    table = responses.select([ACCOUNT, "id", *TRACKED, *CARRIED])
    table = table.append_column(pa.field(RECORD_KEY, pa.string(), nullable=False), pa.array(keys, pa.string()))
    return table.append_column(pa.field(VERSION_HASH, pa.string(), nullable=False), pa.array(hashes, pa.string()))


def history_columns(response_hints: Dict[str, Dict[str, Any]]) -> Dict[str, Dict[str, Any]]:
    """dlt hints: the responses' own for the copied columns, and the history keys."""
    copied: List[str] = ["id", *TRACKED, *CARRIED]
    hints = {name: dict(response_hints[name]) for name in copied}
    for hint in hints.values():
        hint.pop("dedup_sort", None)
    return {**history_hints(), **hints}


def _version_row(row: Dict[str, Any]) -> Dict[str, Any]:
    key = record_key(row[ACCOUNT], row["id"])
    tracked = {name: row[name] for name in TRACKED}
    carried = {name: row[name] for name in CARRIED}
    hashed = version_hash(key, tracked)
    return {ACCOUNT: row[ACCOUNT], "id": row["id"], **tracked, **carried, RECORD_KEY: key, VERSION_HASH: hashed}
