"""Woku's `<survey>_responses_history`: each version of a response's score and text note.

Built from the pages the survey's responses resource already yields (a dlt transformer), so keeping
history costs no request. See `sources/record_kit/history.py` for how versions are told apart.
"""

from typing import Any, Dict, List

from sources.record_kit.accounts import ACCOUNT
from sources.record_kit.history import RECORD_KEY, VERSION_HASH, history_hints, record_key, version_hash


def history_name(kind: str) -> str:
    """`nps` -> `nps_responses_history`, beside `nps_responses`."""
    return f"{kind}_responses_history"


def history_rows(rows: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """One version row per tagged response: the score and the text note, keyed by account and `_id`."""
    out = []
    for row in rows:
        note = row.get("textnote")
        text = note.get("description") if isinstance(note, dict) else None
        key = record_key(row[ACCOUNT], row["_id"])
        out.append(
            {
                ACCOUNT: row[ACCOUNT],
                "_id": row["_id"],
                "score": row.get("score"),
                "textnote__description": text,
                "updated_at": row.get("updatedAt"),
                RECORD_KEY: key,
                VERSION_HASH: version_hash(key, [row.get("score"), text]),
            }
        )
    return out


def history_columns() -> Dict[str, Dict[str, Any]]:
    """Typed even when every note of the first page is empty (dlt would leave the column out)."""
    return {
        **history_hints(),
        "_id": {"data_type": "text", "nullable": False},
        "score": {"data_type": "bigint"},
        "textnote__description": {"data_type": "text"},
        "updated_at": {"data_type": "timestamp", "timezone": True},
    }
