"""Woku's monthly NPS, CSAT % and CES views, recomputed in Python from the landed response rows.

Loaded from the Woku sandbox over loopback into real DuckDB and PostgreSQL. CSAT's interval is
recomputed from the textbook Wilson form in shares, CES's from Python's own sample SD.
"""

import math
import statistics
from collections import defaultdict
from datetime import date, datetime, timezone
from fractions import Fraction
from pathlib import Path
from typing import Any, Dict, List

import pytest

from sandbox.woku import generate_company
from tests.analytics.test_error_bars import assert_row, expected_bar
from tests.conftest import Warehouse, run_cli, woku_env

Z = 1.96
#: a few answers months after the generated span: a small month on each view
LATE = datetime(2024, 9, 10, 8, tzinfo=timezone.utc)


def by_month(rows: List[Dict[str, Any]]) -> Dict[date, List[int]]:
    out: Dict[date, List[int]] = defaultdict(list)
    for r in rows:
        if r["score"] is not None:
            out[r["created_at"].astimezone(timezone.utc).date().replace(day=1)].append(int(r["score"]))
    return out


def wilson(satisfied: int, n: int) -> Dict[str, float]:
    share = satisfied / n
    denominator = 1 + Z * Z / n
    centre = (share + Z * Z / (2 * n)) / denominator
    half = Z / denominator * math.sqrt(share * (1 - share) / n + Z * Z / (4 * n * n))
    return {
        "csat_pct": 100 * share,
        "csat_margin": 100 * half,
        "csat_ci_low": 100 * (centre - half),
        "csat_ci_high": 100 * (centre + half),
    }


@pytest.fixture
def loaded(woku_warehouse: Warehouse, workdir: Path, start_woku) -> Warehouse:
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    company = generate_company(
        seed=12, start=start, span_days=75, nps_responses=1200, csat_responses=1000, ces_responses=600
    )
    for survey in ("nps", "csat", "ces"):
        company.add_responses(survey, 7, at=LATE)
    server = start_woku(company)
    done = run_cli(woku_warehouse.args, workdir, woku_env(server), script="woku_pipeline.py")
    assert done.returncode == 0, done.stderr
    assert "woku_nps_monthly, woku_csat_monthly, woku_ces_monthly" in done.stdout
    return woku_warehouse


def test_woku_nps_monthly_matches_a_recomputation(loaded: Warehouse) -> None:
    months = by_month(loaded.read("nps_responses"))
    rows = {row["month"]: row for row in loaded.read("woku_nps_monthly")}
    assert set(rows) == set(months)
    for month, scores in months.items():
        assert_row(rows[month], expected_bar(scores), month)
    assert {row["small_sample"] for row in rows.values()} == {True, False}


def test_woku_csat_monthly_is_the_share_of_4_and_5_with_a_wilson_interval(loaded: Warehouse) -> None:
    months = by_month(loaded.read("csat_responses"))
    rows = {row["month"]: row for row in loaded.read("woku_csat_monthly")}
    assert set(rows) == set(months)
    for month, scores in months.items():
        n, satisfied = len(scores), sum(s >= 4 for s in scores)
        want: Dict[str, Any] = {"responses": n, "satisfied": satisfied, **wilson(satisfied, n)}
        want["small_sample"] = n < 30 or want["csat_margin"] > 5
        assert_row(rows[month], want, month)
    assert {row["small_sample"] for row in rows.values()} == {True, False}


def test_woku_ces_monthly_is_the_mean_with_a_normal_interval(loaded: Warehouse) -> None:
    months = by_month(loaded.read("ces_responses"))
    rows = {row["month"]: row for row in loaded.read("woku_ces_monthly")}
    assert set(rows) == set(months)
    for month, scores in months.items():
        n = len(scores)
        mean, sd = float(Fraction(sum(scores), n)), statistics.stdev(scores)
        margin = Z * sd / math.sqrt(n)
        want = {
            "responses": n,
            "ces_avg": mean,
            "ces_sd": sd,
            "ces_margin": margin,
            "ces_ci_low": max(1.0, mean - margin),
            "ces_ci_high": min(5.0, mean + margin),
            "small_sample": n < 30 or margin > 0.2,
        }
        assert_row(rows[month], want, month)
    assert rows[LATE.date().replace(day=1)]["small_sample"] is True
