"""`responses_history` rows from a `responses` Arrow batch."""

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
