"""`woku_pipeline.py --demo`: the real pipeline against the bundled Woku sandbox, offline, twice,
then a check against its truth."""

import argparse
import time
from typing import Any, Dict

from pipelines.runner.summary import print_counts
from pipelines.runner.sync import run_sync
from pipelines.vendors import WOKU
from sandbox.woku import WokuSandboxServer, generate_company
from sources.woku.helpers.credentials import WokuCredentials

DEMO_FILE = "feedback_demo.duckdb"
#: table -> the sandbox's truth kinds it holds
TABLES: Dict[str, tuple] = {
    "nps_responses": ("nps_responses",),
    "csat_responses": ("csat_responses",),
    "ces_responses": ("ces_responses",),
    "woku_reviews": ("woku_reviews",),
    "form_responses": ("form_responses",),
    "wokus": ("wokus",),
    "forms": ("forms",),
    "flows": ("flows",),
    "external_tracker_definitions": ("external_tracker_definitions",),
    "external_tracker_values": ("external_tracker_values", "woku_tracker_values"),
}


def run_demo(args: argparse.Namespace) -> int:
    if args.destination != "duckdb":
        print("note: --demo always loads into DuckDB")
        args.destination = "duckdb"
    if args.pipeline_name == "woku":
        args.pipeline_name = "woku_demo"
    company = generate_company(seed=2026)
    # 100 requests per 2 s window: the demo shows pacing on Retry-After without waiting long
    server = WokuSandboxServer(company, rate_limit=100, rate_window=2.0)
    creds = WokuCredentials(api_key=server.api_key)
    with server:
        print(f"sandbox: {server.url} (generated company, rate limit 100 requests / 2 s window)")
        args.full_refresh = True
        started = time.monotonic()
        result = run_sync(WOKU, args, duckdb_file=DEMO_FILE, credentials=creds, base_url=server.url)
        first = server.stats()
        print_counts(result.rows, f"{DEMO_FILE}, dataset {args.dataset_name!r} (full sync)")
        seconds = time.monotonic() - started
        print(f"  {first['requests']} API requests, {first['rate_limited']} answered 429, {seconds:.1f}s")

        company.add_responses("nps", 25)
        company.add_responses("csat", 10)
        company.add_reviews(15)
        company.add_form_responses(5)
        server.reset_stats()
        args.full_refresh = False
        result = run_sync(WOKU, args, duckdb_file=DEMO_FILE, credentials=creds, base_url=server.url)
        second = server.stats()
        print_counts(
            result.rows,
            "the same dataset (incremental run after 25 NPS and 10 CSAT responses, 15 reviews, 5 form responses;"
            " the 7-day look-back re-reads the newest week)",
        )
        print(f"  {second['requests']} API requests")
        ok = _check(result.pipeline, company, args.dataset_name)
    print(f"analyst views: {', '.join(result.views)}")
    print(
        f"query it: python -c \"import duckdb; print(duckdb.connect('{DEMO_FILE}')"
        f".execute('SELECT vendor, kind, count(*) FROM {args.dataset_name}.feedback_all GROUP BY ALL').fetchall())\""
    )
    return 0 if ok else 1


def _check(pipeline: Any, company: Any, dataset: str) -> bool:
    """Served vs landed ids per table: nothing missing, nothing doubled, nothing extra."""
    ok = True
    with pipeline.sql_client() as sql:
        print("check against the sandbox's ground truth:")
        for table, kinds in TABLES.items():
            served = {rec["_id"] for kind in kinds for rec in company.truth(kind)}
            landed = [r[0] for r in sql.execute_sql(f"SELECT _id FROM {dataset}.{table}")]
            missing = len(served - set(landed))
            duplicated = len(landed) - len(set(landed))
            extra = len(set(landed) - served)
            ok &= missing == 0 and duplicated == 0 and extra == 0
            print(
                f"  {table:<29} served {len(served):>5,}  landed {len(landed):>5,}"
                f"  missing {missing}  duplicated {duplicated}"
            )
    return ok
