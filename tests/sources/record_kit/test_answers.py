"""What an answer must give before its records load: the merge key, sane nesting."""

import pytest

from sources.http_kit import ApiError
from sources.record_kit.answers import MAX_NESTING, check_nesting, require_key


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


def test_nesting_up_to_the_limit_passes_and_beyond_it_is_named() -> None:
    def deep(levels: int) -> dict:
        """A record `levels` deep: itself, then lists and objects in turn."""
        value: object = 1
        for level in range(levels - 1):
            value = {"k": value} if level % 2 else [value]
        return {"_id": "a", "x": value}

    check_nesting(deep(MAX_NESTING), "nps_responses", 1)
    with pytest.raises(ApiError, match="nps_responses: the record at position 4 .* more than 16 levels deep"):
        check_nesting(deep(MAX_NESTING + 1), "nps_responses", 4)
