"""Woku → warehouse, and back. `python pipelines/woku_pipeline.py --help`.

Commands:
- `run` (default): sync Woku's responses, wokus, reviews, forms, flows and trackers;
- `trackers`: write external tracker values (CRM ids, order numbers) onto Woku's records;
- `voicemails`: import audio reviews from a manifest, each exactly once.

Configuration comes from dlt (`.dlt/*.toml` or environment variables such as
SOURCES__WOKU__CREDENTIALS__API_KEY and SOURCES__WOKU__BASE_URL).
"""

import argparse
import sys
from typing import Any, List, Optional

import dlt

from analytics.feedback_all import create_feedback_all, datasets, drop_feedback_all
from pipelines.cli import SyncResult, add_common_options, print_counts, row_counts, run_cli
from pipelines.warehouse import DEFAULT_DUCKDB_FILE, LOADER_FILE_FORMAT, bound_extract_buffers, destination_for
from sources.http_kit import ConfigError, RetryPolicy, config
from sources.woku import woku_source
from sources.woku.helpers.client import WokuClient
from sources.woku.settings import DEFAULT_BASE_URL

SECTION = "sources.woku"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="woku-pipeline", description="Sync Woku, and write trackers and voicemails.")
    parser.add_argument(
        "command",
        nargs="?",
        choices=("run", "trackers", "voicemails"),
        default="run",
        help="run: sync (default); trackers: write tracker values; voicemails: import audio reviews",
    )
    add_common_options(parser, "woku")
    trackers = parser.add_argument_group("trackers")
    trackers.add_argument("--file", help="trackers: CSV with header entity_type,entity_id,name,value")
    trackers.add_argument("--from-table", help="trackers: SCHEMA.TABLE in the destination with those columns")
    trackers.add_argument("--create-missing", action="store_true", help="trackers: create absent tracker definitions")
    trackers.add_argument("--dry-run", action="store_true", help="trackers/voicemails: validate and show, send nothing")
    voicemails = parser.add_argument_group("voicemails")
    voicemails.add_argument(
        "--manifest", help="voicemails: CSV with header file,wokuId,qualification,clientEmail,clientPhone,anonymous"
    )
    voicemails.add_argument(
        "--v1", action="store_true", help="voicemails: POST /v1/wokus/{wokuId}/voicemails instead of the classic route"
    )
    voicemails.add_argument("--language", default="es", help="voicemails: audio language for the v1 route")
    return parser


def make_client() -> WokuClient:
    """The Woku API client from the same configuration the source reads."""
    api_key = dlt.secrets.get(f"{SECTION}.credentials.api_key")
    if not api_key:
        raise ConfigError(
            "missing configuration: set SOURCES__WOKU__CREDENTIALS__API_KEY"
            " (in .dlt/secrets.toml, .dlt/config.toml or environment variables)"
        )
    base_url = dlt.config.get(f"{SECTION}.base_url") or DEFAULT_BASE_URL
    retries = dlt.config.get(f"{SECTION}.max_retries") or 6
    timeout = dlt.config.get(f"{SECTION}.request_timeout") or 60.0
    return WokuClient(
        config.check_http_url(base_url, f"{SECTION}.base_url"),
        str(api_key),
        retry=RetryPolicy(max_attempts=int(config.check_positive(retries, f"{SECTION}.max_retries"))),
        timeout=config.check_positive(timeout, f"{SECTION}.request_timeout"),
    )


def make_pipeline(args: argparse.Namespace, duckdb_file: Optional[str] = None) -> Any:
    return dlt.pipeline(
        pipeline_name=args.pipeline_name,
        destination=destination_for(args.destination, args.dataset_name, duckdb_file or DEFAULT_DUCKDB_FILE),
        dataset_name=args.dataset_name,
        progress=args.progress,
    )


def make_source(resources: Optional[str], start_date: Optional[str], **overrides: Any) -> Any:
    kwargs = dict(overrides)
    if start_date:
        config.parse_start_date(start_date, "--start-date")
        kwargs["start_date"] = start_date
    source = woku_source(**kwargs)
    if resources:
        wanted = [r.strip() for r in resources.split(",") if r.strip()]
        if wanted == ["all"]:
            wanted = list(source.resources)
        unknown = sorted(set(wanted) - set(source.resources))
        if unknown:
            raise ConfigError(f"--resources: unknown {', '.join(unknown)} (available: {', '.join(source.resources)})")
        source = source.with_resources(*wanted)
    return source


def run_pipeline(args: argparse.Namespace, duckdb_file: Optional[str] = None, **source_overrides: Any) -> SyncResult:
    """One sync, then the cross-vendor `feedback_all` view."""
    bound_extract_buffers()
    pipeline = make_pipeline(args, duckdb_file)
    source = make_source(args.resources, args.start_date, **source_overrides)
    wootric_dataset, woku_dataset = datasets("woku", args.dataset_name)
    if args.full_refresh:
        drop_feedback_all(pipeline, woku_dataset)  # it reads the tables a refresh drops
    pipeline.run(
        source,
        loader_file_format=LOADER_FILE_FORMAT.get(args.destination),
        refresh=("drop_resources" if args.resources else "drop_sources") if args.full_refresh else None,
    )
    return SyncResult(pipeline, row_counts(pipeline), create_feedback_all(pipeline, wootric_dataset, woku_dataset))


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)

    def body() -> int:
        if args.command == "trackers":
            from pipelines.writeback.trackers import run_trackers

            return run_trackers(args)
        if args.command == "voicemails":
            from pipelines.writeback.voicemails import run_voicemails

            return run_voicemails(args)
        if args.demo:
            from pipelines.woku_demo import run_demo

            return run_demo(args)
        result = run_pipeline(args)
        print_counts(result.rows, f"{args.destination} dataset {args.dataset_name!r}")
        if result.views:
            print(f"analyst views: {', '.join(result.views)}")
        return 0

    return run_cli(body)


if __name__ == "__main__":
    sys.exit(main())
