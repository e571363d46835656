"""The benchmark's workloads: the Workload table, quick and full data sizes, and the fewest requests a run needs."""

import math
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

STREAMS = ("end_users", "responses", "declines")


@dataclass
class Workload:
    name: str
    end_users: int
    responses: int
    declines: int
    rate_limit: Optional[int] = None
    rate_window: float = 60.0
    destination: str = "duckdb"
    incremental_of: Optional[str] = None  # re-run in the working directory of this workload
    peer: bool = False
    styles: str = ""
    #: sandbox `--burst N:kind` specs: records sharing one second, placed across page boundaries
    bursts: Tuple[str, ...] = ()
    env: Dict[str, str] = field(default_factory=dict)
    #: "woku": the Woku pipeline against the Woku sandbox, with these sandbox counts
    woku: Dict[str, int] = field(default_factory=dict)
    #: W6: this many accounts, each on its own sandbox of this size (benchmarks/multi.py)
    accounts: int = 0


def fewest_requests(w: Workload) -> int:
    return sum(math.ceil(n / 50) for n in (w.end_users, w.responses, w.declines))


#: W3's target (at most 2 list requests per stream) predates the responses look-back window, which
#: by design re-reads the last days of responses; the benchmark reports both
NO_LOOKBACK = {"SOURCES__WOOTRIC__RESPONSES_LOOKBACK_DAYS": "0"}
#: the issue-13 account: 76k records whose timestamps come in bursts (imports, campaigns). Bursts of
#: 45 records straddle page ends, bursts of 60 and 120 fill whole pages; it measured 21.0 requests
#: per 1,000 with one page per window
BURSTY = (
    *("120:responses", "45:responses") * 20,
    *("60:declines",) * 4,
    *("60:end_users",) * 6,
)
WOKU_QUICK = {"nps_responses": 6_000, "csat_responses": 2_000, "ces_responses": 2_000, "wokus": 40, "reviews": 3_000}
WOKU_FULL = {
    "nps_responses": 100_000,
    "csat_responses": 30_000,
    "ces_responses": 30_000,
    "wokus": 200,
    "reviews": 40_000,
    "forms": 20,
    "form_responses": 20_000,
}


def workloads(quick: bool, peer: bool) -> List[Workload]:
    woku = WOKU_QUICK if quick else WOKU_FULL
    # 10 requests a second per account, as a Wootric account's own limit would pace it
    w6 = (
        [Workload("W6 3 accounts → DuckDB", 100, 800, 100, rate_limit=10, rate_window=1.0, accounts=3)]
        if quick
        else [
            Workload("W6 8 accounts → DuckDB", 2_000, 16_000, 2_000, rate_limit=10, rate_window=1.0, accounts=8),
            Workload(
                "W6 8 accounts → Postgres",
                2_000,
                16_000,
                2_000,
                rate_limit=10,
                rate_window=1.0,
                accounts=8,
                destination="postgres",
            ),
        ]
    )
    tail = [
        Workload("W5 Woku full sync → DuckDB", 0, 0, 0, woku=woku),
        Workload("W5 Woku incremental, no change", 0, 0, 0, woku=woku, incremental_of="W5 Woku full sync → DuckDB"),
        *w6,
    ]
    if quick:
        return [
            Workload("W1 backfill → DuckDB", 1_000, 10_000, 1_000, peer=peer, styles="space" if peer else ""),
            Workload("W2 rate-limited (60 req / 3 s)", 1_000, 6_000, 500, rate_limit=60, rate_window=3.0),
            Workload("W3 incremental, no change", 1_000, 10_000, 1_000, incremental_of="W1 backfill → DuckDB"),
            Workload(
                "W3 … without look-back", 1_000, 10_000, 1_000, incremental_of="W1 backfill → DuckDB", env=NO_LOOKBACK
            ),
            Workload("W4 backfill → Postgres", 1_000, 10_000, 1_000, destination="postgres"),
            *tail,
        ]
    return [
        Workload(
            "W1 backfill → DuckDB (50k responses)", 20_000, 50_000, 20_000, peer=peer, styles="space" if peer else ""
        ),
        Workload(
            "W1 backfill → DuckDB (200k responses)", 20_000, 200_000, 20_000, peer=peer, styles="space" if peer else ""
        ),
        Workload("W1 bursty backfill → DuckDB (10k, 60k, 6k)", 10_000, 60_000, 6_000, bursts=BURSTY),
        # the 50k W1 into bqemulator (emulator mode): `bench.py --only BigQuery`; its speed is not BigQuery's
        Workload("W1 backfill → BigQuery emulator (50k responses)", 20_000, 50_000, 20_000, destination="bigquery"),
        Workload("W2 rate-limited (60 req / 3 s)", 3_000, 15_000, 1_500, rate_limit=60, rate_window=3.0),
        Workload(
            "W3 incremental, no change", 20_000, 200_000, 20_000, incremental_of="W1 backfill → DuckDB (200k responses)"
        ),
        Workload(
            "W3 … without look-back",
            20_000,
            200_000,
            20_000,
            incremental_of="W1 backfill → DuckDB (200k responses)",
            env=NO_LOOKBACK,
        ),
        Workload("W4 backfill → Postgres", 20_000, 200_000, 20_000, destination="postgres"),
        *tail,
    ]
