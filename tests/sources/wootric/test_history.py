"""`responses_history` rows from a `responses` Arrow batch."""

import json
from datetime import datetime, timezone

from sources.wootric.helpers.history import history_table
from sources.wootric.helpers.tables import to_table

NOW = datetime(2025, 3, 1, tzinfo=timezone.utc)


def response(rid: int, **fields) -> dict:
    return {
        "id": rid,
        "score": 9,
        "text": "ok",
        "tags": ["a"],
        "completed": True,
        "excluded_from_calculations": False,
        "created_at": NOW,
        "updated_at": NOW,
        **fields,
    }


def test_only_tracked_fields_make_a_new_version() -> None:
    batch = to_table(
        "responses",
        [
            response(1),
            response(2),
            response(3, updated_at=datetime(2025, 3, 2, tzinfo=timezone.utc), ip_address="1.2.3.4"),
        ],
        "acme",
    )
    rows = history_table(batch).to_pylist()
    assert [r["record_key"] for r in rows] == ["acme:1", "acme:2", "acme:3"]
    assert rows[0]["version_hash"] != rows[1]["version_hash"]  # another response, same fields
    again = history_table(
        to_table(
            "responses",
            [response(1, ip_address="9.9.9.9", updated_at=datetime(2025, 3, 5, tzinfo=timezone.utc))],
            "acme",
        )
    )
    assert again.to_pylist()[0]["version_hash"] == rows[0]["version_hash"]  # untracked change: same version
    edited = history_table(to_table("responses", [response(1, tags=["a", "b"])], "acme"))
    assert edited.to_pylist()[0]["version_hash"] != rows[0]["version_hash"]
    assert set(rows[0]) == {
        "account",
        "id",
        "score",
        "text",
        "tags",
        "excluded_from_calculations",
        "completed",
        "updated_at",
        "record_key",
        "version_hash",
    }


def test_rows_for_bigquery_give_the_same_versions_as_rows() -> None:
    """A BigQuery load hands the batch on as rows with JSON parsed (pipelines/warehouse/bigquery.py)."""
    table = to_table("responses", [response(1), response(2, tags=["b"])], "acme")
    rows = [{**row, "tags": json.loads(row["tags"])} for row in table.to_pylist()]
    versions = history_table(rows)
    assert [v["record_key"] for v in versions] == ["acme:1", "acme:2"] and versions[1]["tags"] == ["b"]
    assert set(versions[0]) == set(history_table(table).to_pylist()[0])
    same = history_table([{**rows[0], "updated_at": datetime(2025, 3, 5, tzinfo=timezone.utc)}])
    edited = history_table([{**rows[0], "tags": ["a", "c"]}])
    assert same[0]["version_hash"] == versions[0]["version_hash"] != edited[0]["version_hash"]
