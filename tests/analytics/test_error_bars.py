"""The NPS error bars, rolling NPS and monthly rates, recomputed in Python from the raw landed rows.

Loaded from the sandbox over loopback into real DuckDB and PostgreSQL. The recomputation uses the
textbook share form of each formula, not the views' integer form, so a slip in either shows.
"""

import math
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path
from typing import Any, Dict, Iterable, List, Tuple

import pytest

from sandbox.wootric import generate_account
from tests.conftest import Warehouse, run_cli, sandbox_env

TOL = 1e-9
#: responses landed two years after the generated span: a small month after a long gap
LATE = datetime(2024, 6, 5, 12, tzinfo=timezone.utc)


def wootric_round(x: Any) -> int:
    """Half away from zero, on exact fractions (Wootric's rounding)."""
    value = Fraction(x)
    return int(math.floor(abs(value) + Fraction(1, 2))) * (1 if value >= 0 else -1)


def expected_bar(scores: List[int]) -> Dict[str, Any]:
    """NPS, its 95 % margin (1.96 · 100 · √((P + D − (P − D)²) / n)), the clamped interval, the flag."""
    n = len(scores)
    p, d = sum(s >= 9 for s in scores), sum(s <= 6 for s in scores)
    if n == 0:
        return {"responses": 0, "nps": None, "nps_margin": None, "small_sample": True}
    share_p, share_d = p / n, d / n
    margin = 1.96 * 100 * math.sqrt((share_p + share_d - (share_p - share_d) ** 2) / n)
    nps = 100 * (share_p - share_d)
    return {
        "responses": n,
        "promoters": p,
        "detractors": d,
        "nps": wootric_round(Fraction(100 * (p - d), n)),
        "nps_margin": margin,
        "nps_ci_low": max(-100.0, nps - margin),
        "nps_ci_high": min(100.0, nps + margin),
        "small_sample": n < 30 or margin > 10,
    }


def assert_row(row: Dict[str, Any], want: Dict[str, Any], where: Any) -> None:
    for key, value in want.items():
        got = row[key]
        if isinstance(value, float):
            assert got == pytest.approx(value, rel=TOL, abs=TOL), (where, key, got, value)
        else:
            assert got == value, (where, key, got, value)


def utc(value: datetime) -> datetime:
    return value.astimezone(timezone.utc)


def counted(rows: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The rows every NPS view counts: a score, and not excluded (a missing flag counts)."""
    return [r for r in rows if r["score"] is not None and not r["excluded_from_calculations"]]


@pytest.fixture
def loaded(warehouse: Warehouse, workdir: Path, start_sandbox) -> Tuple[Warehouse, List[Dict[str, Any]]]:
    start = datetime(2022, 1, 1, tzinfo=timezone.utc)
    account = generate_account(seed=33, end_users=200, responses=3000, declines=300, start=start, span_days=120)
    account.add_responses(12, at=LATE)
    account.add_declines(3, at=LATE + timedelta(days=1))
    server = start_sandbox(account)
    done = run_cli(warehouse.args, workdir, sandbox_env(server))
    assert done.returncode == 0, done.stderr
    assert "nps_rolling, engagement_monthly" in done.stdout
    return warehouse, warehouse.read("responses")


def test_nps_monthly_error_bars_match_a_recomputation_from_the_landed_rows(loaded) -> None:
    warehouse, responses = loaded
    by_month: Dict[date, List[int]] = defaultdict(list)
    for r in counted(responses):
        by_month[utc(r["created_at"]).date().replace(day=1)].append(r["score"])
    rows = {row["month"]: row for row in warehouse.read("nps_monthly")}
    assert set(rows) == set(by_month) and len(rows) >= 5
    for month, scores in by_month.items():
        assert_row(rows[month], expected_bar(scores), month)
    flags = {row["small_sample"] for row in rows.values()}
    assert flags == {True, False}, "the data must hold months on both sides of the small-sample rule"
    assert rows[LATE.date().replace(day=1)]["small_sample"] is True


def test_nps_by_segment_error_bars_match_for_every_channel(loaded) -> None:
    warehouse, responses = loaded
    by_channel: Dict[str, List[int]] = defaultdict(list)
    for r in counted(responses):
        by_channel[r["survey__channel"]].append(r["score"])
    rows = {row["value"]: row for row in warehouse.read("nps_by_segment") if row["segment"] == "survey_channel"}
    assert set(rows) == set(by_channel) and len(rows) >= 3
    for channel, scores in by_channel.items():
        assert_row(rows[channel], expected_bar(scores), channel)


def test_nps_rolling_covers_every_day_and_matches_for_a_handful(loaded) -> None:
    warehouse, responses = loaded
    days: Dict[date, List[int]] = defaultdict(list)
    for r in counted(responses):
        days[utc(r["created_at"]).date()].append(r["score"])
    first, last = min(days), max(days)
    rows = {(row["day"], row["window_days"]): row for row in warehouse.read("nps_rolling")}
    span = (last - first).days + 1
    assert len(rows) == 2 * span, "one row per day and window, from the first response day to the last"
    picks = [first, first + timedelta(days=45), first + timedelta(days=100), LATE.date() - timedelta(days=1), last]
    for day in picks:
        for window in (30, 90):
            scores = [s for d, ss in days.items() if day - timedelta(days=window - 1) <= d <= day for s in ss]
            assert_row(rows[(day, window)], expected_bar(scores), (day, window))
    # in the gap the window is empty: no NPS and no error bar, flagged small
    gap = rows[(LATE.date() - timedelta(days=1), 90)]
    assert gap["responses"] == 0 and gap["nps"] is None and gap["small_sample"] is True


def test_engagement_monthly_rates_match_the_landed_responses_and_declines(loaded) -> None:
    warehouse, responses = loaded
    answered: Dict[date, int] = defaultdict(int)
    commented: Dict[date, int] = defaultdict(int)
    declined: Dict[date, int] = defaultdict(int)
    for r in counted(responses):
        month = utc(r["created_at"]).date().replace(day=1)
        answered[month] += 1
        commented[month] += bool((r["text"] or "").strip(" "))
    for d in warehouse.read("declines"):
        declined[utc(d["created_at"]).date().replace(day=1)] += 1
    rows = {row["month"]: row for row in warehouse.read("engagement_monthly")}
    assert set(rows) == set(answered) | set(declined)
    for month, row in rows.items():
        n, k, c = answered[month], declined[month], commented[month]
        want = {
            "responses": n,
            "declines": k,
            "commented": c,
            "response_rate_pct": 100.0 * n / (n + k),
            "comment_rate_pct": 100.0 * c / n if n else None,
        }
        assert_row(row, want, month)
    assert all(0 < row["comment_rate_pct"] < 100 and row["declines"] > 0 for row in rows.values())
