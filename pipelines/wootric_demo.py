"""`--demo`: the real pipeline against the bundled sandbox, offline, then a check against its truth."""

import argparse
from typing import Any

from pipelines.runner.cli import EXIT_FAILED
from pipelines.runner.demo import DEMO_FILE, check_against_truth, demo_args, demo_themes, sync_twice, write_demo_report
from pipelines.runner.vendor import Vendor
from sandbox.wootric import SandboxServer, generate_account
from sources.wootric.helpers.credentials import WootricPasswordCredentials

TABLES = ("end_users", "responses", "declines")


def run_demo(vendor: Vendor, args: argparse.Namespace) -> int:
    demo_args(args, vendor.name)
    # a burst of equal timestamps straddling page 30, excluded responses, mixed UTC offsets
    account = generate_account(
        seed=2026,
        end_users=600,
        responses=6000,
        declines=700,
        bursts=((150, "responses"), (80, "end_users"), (60, "declines")),
    )
    # the real API allows 100 requests a minute; the sandbox scales the window down to 2 s
    server = SandboxServer(account, rate_limit=100, rate_window=2.0, token_ttl=7200)
    creds = WootricPasswordCredentials(
        username=server.username, password=server.password, account_token=server.account_token
    )
    with server:
        print(f"sandbox: {server.url} (generated account, rate limit 100 requests / 2 s window)")

        def change() -> None:
            account.add_responses(40)
            account.add_declines(5)
            account.update_end_users(12)

        labels = (
            "full backfill",
            "incremental run after 40 new responses, 5 new declines, 12 updated end users",
        )
        result = sync_twice(vendor, args, server, change, labels, credentials=creds)
        ok = _summarize(result.pipeline, account, args.dataset_name)
    print(f"analyst views: {', '.join(result.views)}")
    demo_themes(vendor, args)
    write_demo_report(result.pipeline, "python pipelines/wootric_pipeline.py report --demo")
    print(
        f"query it: python -c \"import duckdb; print(duckdb.connect('{DEMO_FILE}')"
        f".execute('SELECT score, text FROM {args.dataset_name}.responses LIMIT 5').fetchall())\""
    )
    return 0 if ok else EXIT_FAILED


def _summarize(pipeline: Any, account: Any, dataset: str) -> bool:
    """Served vs landed per table, and the NPS of the landed responses."""
    ok = check_against_truth(
        pipeline, dataset, {table: [rec["id"] for rec in account.truth(table)] for table in TABLES}, "id"
    )
    with pipeline.sql_client() as sql:
        n, promoters, detractors, excluded = sql.execute_sql(
            f"SELECT count(*) FILTER (WHERE NOT excluded_from_calculations),"
            f" count(*) FILTER (WHERE NOT excluded_from_calculations AND score >= 9),"
            f" count(*) FILTER (WHERE NOT excluded_from_calculations AND score <= 6),"
            f" count(*) FILTER (WHERE excluded_from_calculations) FROM {dataset}.responses"
        )[0]
    nps = _nps(n, promoters, detractors)
    print(
        f"NPS over {n:,} responses: {nps} ({promoters:,} promoters, {detractors:,} detractors; "
        f"{excluded:,} responses excluded from calculations are loaded but not counted)"
    )
    return ok


def _nps(n: int, promoters: int, detractors: int) -> int:
    return round(100 * (promoters - detractors) / n) if n else 0
