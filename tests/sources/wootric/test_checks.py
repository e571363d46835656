"""`verify`'s Wootric totals: nps_summary's counts are taken only when each is a whole count."""

from datetime import datetime, timezone
from typing import Any, Dict, List

import pytest

from sources.http_kit import ApiError
from sources.http_kit.errors import causes
from sources.wootric.checks import _totals

FEB = (datetime(2024, 2, 1, tzinfo=timezone.utc), datetime(2024, 3, 1, tzinfo=timezone.utc))
GOOD = {"nps": 40, "responses": 10, "promoters": 5, "passives": 4, "detractors": 1}


def totals(body: Any) -> List[Dict[str, Any]]:
    return list(_totals(lambda path, params: body, [FEB]))


def test_whole_counts_are_taken() -> None:
    assert {r["measure"]: r["api"] for r in totals(GOOD)} == {
        "responses": 10,
        "promoters": 5,
        "passives": 4,
        "detractors": 1,
    }


@pytest.mark.parametrize("value", [None, 4.5, 4.0, True, "many", "4", float("inf"), -1], ids=lambda v: repr(v))
def test_what_is_not_a_whole_count_is_refused_naming_the_month(value: Any) -> None:
    body = {k: v for k, v in GOOD.items() if k != "passives"}
    if value is not None:
        body["passives"] = value
    with pytest.raises(Exception) as raised:
        totals(body)
    error = next((e for e in causes(raised.value) if isinstance(e, ApiError)), None)
    assert error is not None, raised.value
    assert "2024-02" in str(error) and "passives" in str(error) and "\n" not in str(error), str(error)
