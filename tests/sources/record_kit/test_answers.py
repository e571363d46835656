"""What an answer must give before its records load: the merge key."""

import pytest

from sources.http_kit import ApiError
from sources.record_kit.answers import require_key


def test_a_record_without_its_key_is_named_by_position_and_clues_only() -> None:
    record = {"end_user_id": 77, "created_at": "2024-03-05", "email": "ana@example.com", "id": None}
    with pytest.raises(ApiError) as caught:
        require_key(record, "id", "responses", 3, ("end_user_id", "created_at"))
    message = str(caught.value)
    assert "responses: the record at position 3 of its page (end_user_id 77, created_at 2024-03-05)" in message
    assert message.endswith("--resources") and "has no id" in message
    assert "ana@example.com" not in message  # personal data is not a clue
    with pytest.raises(ApiError, match="item 2 of a page is str, not a record"):
        require_key("oops", "id", "responses", 2)
