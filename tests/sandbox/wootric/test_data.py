"""Tests of the Wootric sandbox's data model (``sandbox/wootric/data.py``): generation, rendered
timestamp styles, bursts on page boundaries, added records.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta

from sandbox.wootric import Account, generate_account

TS_PATTERNS = (
    re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}$"),
    re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000[+-]\d\d:\d\d$"),
    re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[+-]\d\d:\d\d$"),
)


def parse_api_ts(value: str) -> datetime:
    """Parse any of the three API timestamp styles (the pipeline must do the same)."""
    value = value.replace("T", " ").replace(".000", "")
    if value[-3] != ":":  # "-0800" -> "-08:00"
        value = value[:-2] + ":" + value[-2:]
    return datetime.fromisoformat(value.replace(" +", "+").replace(" -", "-"))


def test_generation_is_deterministic_and_canonical(account: Account) -> None:
    again = generate_account(
        7, end_users=300, responses=3000, declines=400, bursts=((120, "responses"), (60, "end_users"), (40, "declines"))
    )
    assert again.truth("responses") == account.truth("responses")
    users = account.truth("end_users")
    assert [u["id"] for u in users] == list(range(1, 301))
    assert len({u["email"] for u in users}) == 300
    for r in account.truth("responses"):
        assert r["created_at"].tzinfo is UTC and r["created_at"].microsecond == 0
        assert r["updated_at"] >= r["created_at"]
        assert 1 <= r["end_user_id"] <= 300 and 0 <= r["score"] <= 10
    excluded = sum(r["excluded_from_calculations"] for r in account.truth("responses"))
    assert 50 < excluded < 300


def test_render_styles_offsets_and_instant(account: Account) -> None:
    styles: Counter[int] = Counter()
    for rec in account.truth("responses")[:600]:
        shown = account.render("responses", rec)
        for key in ("created_at", "updated_at"):
            matched = [i for i, p in enumerate(TS_PATTERNS) if p.match(shown[key])]
            assert matched, shown[key]
            styles[matched[0]] += 1
            assert parse_api_ts(shown[key]) == rec[key]
    assert len(styles) == 3 and styles[0] > styles[1]


def test_bursts_straddle_page_boundary(account: Account) -> None:
    cases = (("responses", "created_at", 120), ("end_users", "created_at", 60), ("end_users", "updated_at", 60))
    for kind, key, n in cases:
        recs = sorted(account.truth(kind), key=lambda r: (r[key], r["id"]))  # type: ignore[arg-type]
        sec, count = Counter(r[key] for r in recs).most_common(1)[0]
        assert count >= n
        positions = [i for i, r in enumerate(recs) if r[key] == sec]
        if len(recs) > 1500:
            assert positions[0] < 1500 <= positions[-1]


def test_huge_second_and_id_offset() -> None:
    acct = generate_account(1, end_users=20, responses=100, declines=10, huge_second=3100, id_offset=1000)
    resp = acct.truth("responses")
    assert resp[0]["id"] == 1001 and len(resp) == 3200
    sec, count = Counter(r["created_at"] for r in resp).most_common(1)[0]
    assert count >= 3100
    assert not any(r["excluded_from_calculations"] for r in resp if r["created_at"] == sec)


def test_add_records_default_to_now() -> None:
    acct = generate_account(4, end_users=10, responses=10, declines=10)
    now = datetime.now(UTC)
    for recs in (acct.add_end_users(2), acct.add_responses(2), acct.add_declines(2)):
        assert all(abs(r["created_at"] - now) < timedelta(seconds=5) for r in recs)
    assert [r["id"] for r in acct.truth("declines")][-2:] == [11, 12]
