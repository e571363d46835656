"""95 % error bars beside the views' NPS, CSAT % and CES, as SQL every supported warehouse runs, and
in Python (formulas and `small_sample`: docs/analytics.md#error-bars-and-small_sample).

The SQL works on integer counts where it can (the NPS variance numerator n·(p + d) − (p − d)² is exact
and never negative, so Postgres' SQRT never sees −1e-17), then on the dialect's double.
"""

import math
from typing import Dict, Optional

Z = 1.96
MIN_RESPONSES = 30
#: the margin above which a figure is flagged: 5 % of the metric's range
MAX_MARGIN = {"nps": 10.0, "csat": 5.0, "ces": 0.2}
CES_SCALE = (1, 5)

#: the double type of each dialect
FLOAT = {"duckdb": "DOUBLE", "postgres": "DOUBLE PRECISION", "bigquery": "FLOAT64", "snowflake": "DOUBLE"}


def nps_error_bar_sql(dialect: str, p: str, d: str, n: str) -> str:
    """`nps_margin, nps_ci_low, nps_ci_high, small_sample` from promoter, detractor and response counts."""
    f = FLOAT[dialect]
    # NULLIF: Postgres and BigQuery raise on x / 0 even in a branch a CASE does not take (an empty window)
    exact = f"(100 * CAST({p} - {d} AS {f}) / NULLIF({n}, 0))"
    size = f"NULLIF({n}, 0)"
    margin = f"({100 * Z} * SQRT(CAST({n} * ({p} + {d}) - ({p} - {d}) * ({p} - {d}) AS {f}) / {size}) / {size})"
    return (
        f"{margin} AS nps_margin,"
        f"\n    GREATEST(-100, {exact} - {margin}) AS nps_ci_low,"
        f"\n    LEAST(100, {exact} + {margin}) AS nps_ci_high,"
        f"\n    ({n} < {MIN_RESPONSES} OR {margin} > {MAX_MARGIN['nps']}) AS small_sample"
    )


def csat_error_bar_sql(dialect: str, s: str, n: str) -> str:
    """`csat_pct, csat_margin, csat_ci_low, csat_ci_high, small_sample` (Wilson) from satisfied and response counts."""
    f, z2 = FLOAT[dialect], round(Z * Z, 4)
    # Wilson: centre (s + z²/2) / (n + z²), half-width z·√(s(n − s)/n + z²/4) / (n + z²)
    centre = f"((CAST({s} AS {f}) + {z2 / 2}) / ({n} + {z2}))"
    half = f"({Z} * SQRT(CAST({s} * ({n} - {s}) AS {f}) / {n} + {z2 / 4}) / ({n} + {z2}))"
    return (
        f"100 * CAST({s} AS {f}) / {n} AS csat_pct,"
        f"\n    100 * {half} AS csat_margin,"
        f"\n    100 * ({centre} - {half}) AS csat_ci_low,"
        f"\n    100 * ({centre} + {half}) AS csat_ci_high,"
        f"\n    ({n} < {MIN_RESPONSES} OR 100 * {half} > {MAX_MARGIN['csat']}) AS small_sample"
    )


def ces_error_bar_sql(mean: str, sd: str, n: str) -> str:
    """`ces_margin, ces_ci_low, ces_ci_high, small_sample` from the mean, sample SD and count (any dialect)."""
    margin = f"({Z} * {sd} / SQRT({n}))"  # NULL for n = 1: STDDEV_SAMP is NULL there
    low, high = CES_SCALE
    return (
        f"{margin} AS ces_margin,"
        f"\n    GREATEST({low}, {mean} - {margin}) AS ces_ci_low,"
        f"\n    LEAST({high}, {mean} + {margin}) AS ces_ci_high,"
        f"\n    ({n} < {MIN_RESPONSES} OR {margin} > {MAX_MARGIN['ces']}) AS small_sample"
    )


def wootric_nps(promoters: int, detractors: int, responses: int) -> Optional[int]:
    """NPS rounded half away from zero on integers, as the views (and Wootric) round it."""
    if not responses:
        return None
    delta = promoters - detractors
    magnitude = (200 * abs(delta) + responses) // (2 * responses)
    return magnitude if delta >= 0 else -magnitude


def nps_error_bar(promoters: int, detractors: int, responses: int) -> Dict[str, Optional[float]]:
    """The same as `nps_error_bar_sql`, in Python, for sums the views do not hold (several accounts)."""
    if responses == 0:
        return {"nps_margin": None, "nps_ci_low": None, "nps_ci_high": None, "small_sample": True}
    variance = responses * (promoters + detractors) - (promoters - detractors) ** 2
    margin = 100 * Z * math.sqrt(variance / responses) / responses
    exact = 100 * (promoters - detractors) / responses
    return {
        "nps_margin": margin,
        "nps_ci_low": max(-100.0, exact - margin),
        "nps_ci_high": min(100.0, exact + margin),
        "small_sample": responses < MIN_RESPONSES or margin > MAX_MARGIN["nps"],
    }
