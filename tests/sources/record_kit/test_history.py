"""The history keys: a version is a change of a tracked field of one record, nothing else."""

from sources.record_kit.history import HISTORY_DISPOSITION, record_key, version_hash


def test_key_cannot_collide_across_accounts() -> None:
    # what CONCAT(account, id) would confuse
    assert record_key("acme1", 23) != record_key("acme", 123)


def test_hash_changes_with_a_tracked_value_or_the_record_only() -> None:
    base = version_hash("a:1", {"score": 9, "tags": ["x"]})
    assert version_hash("a:1", {"tags": ["x"], "score": 9}) == base  # key order is not a change
    assert version_hash("a:1", {"score": 8, "tags": ["x"]}) != base
    assert version_hash("a:2", {"score": 9, "tags": ["x"]}) != base  # equal fields, another record


def test_disposition_is_scd2_on_our_version_column() -> None:
    assert HISTORY_DISPOSITION["strategy"] == "scd2"
    assert HISTORY_DISPOSITION["row_version_column_name"] == "version_hash"
