"""`woku_pipeline.py --demo`: the real pipeline against the bundled Woku sandbox, offline, twice,
then a check against its truth."""

import argparse
from typing import Any, Dict

from pipelines.runner.cli import EXIT_FAILED
from pipelines.runner.demo import DEMO_FILE, check_against_truth, demo_args, demo_themes, sync_twice
from pipelines.runner.vendor import Vendor
from sandbox.woku import WokuSandboxServer, generate_company
from sources.woku.helpers.client import WokuCredentials

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


def run_demo(vendor: Vendor, args: argparse.Namespace) -> int:
    demo_args(args, vendor.name)
    company = generate_company(seed=2026)
    # 100 requests per 2 s window: the demo shows pacing on Retry-After without waiting long
    server = WokuSandboxServer(company, rate_limit=100, rate_window=2.0)
    creds = WokuCredentials(api_key=server.api_key)
    with server:
        print(f"sandbox: {server.url} (generated company, rate limit 100 requests / 2 s window)")

        def change() -> None:
            company.add_responses("nps", 25)
            company.add_responses("csat", 10)
            company.add_reviews(15)
            company.add_form_responses(5)

        labels = (
            "full sync",
            "incremental run after 25 NPS and 10 CSAT responses, 15 reviews, 5 form responses;"
            " the 7-day look-back re-reads the newest week",
        )
        result = sync_twice(vendor, args, server, change, labels, credentials=creds)
        ok = _check(result.pipeline, company, args.dataset_name)
    print(f"analyst views: {', '.join(result.views)}")
    demo_themes(vendor, args)
    print(
        f"query it: python -c \"import duckdb; print(duckdb.connect('{DEMO_FILE}')"
        f".execute('SELECT vendor, kind, count(*) FROM {args.dataset_name}.feedback_all GROUP BY ALL').fetchall())\""
    )
    return 0 if ok else EXIT_FAILED


def _check(pipeline: Any, company: Any, dataset: str) -> bool:
    served = {table: [rec["_id"] for kind in kinds for rec in company.truth(kind)] for table, kinds in TABLES.items()}
    return check_against_truth(pipeline, dataset, served, "_id")
