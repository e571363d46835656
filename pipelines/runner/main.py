"""The command line every vendor's entry script hands to: `run` (the default), `status`, `verify` and the
vendor's own subcommands, each with only its own options; parse, dispatch, print, exit."""

import argparse
import gc
import logging
import re
import sys
from typing import List, Optional, Sequence

from dlt.common.destination import Destination
from dlt.common.destination.exceptions import UnknownDestinationModule
from dlt.common.pipeline import get_dlt_pipelines_dir

from pipelines.runner.accounts import account_names, single_account
from pipelines.runner.cli import run_cli
from pipelines.runner.lock import recorded_run
from pipelines.runner.status import STATUS, add_status_options, run_status
from pipelines.runner.sync import print_summary, run_sync
from pipelines.runner.vendor import Vendor
from pipelines.runner.verify import VERIFY, add_verify_options, run_verify
from pipelines.warehouse.lake import MergeFallbacks
from pipelines.warehouse.themes import themes_after_sync, write_themes
from pipelines.warehouse.views import views_not_built, where_views_are
from sources.http_kit import ConfigError

PROGRESS_CHOICES = ("auto", "none", "log", "tqdm", "enlighten", "alive_progress")
RUN = "run"
#: the warehouses the pipelines are built and tested for (views, layouts, file formats); any other
#: dlt destination loads the tables (docs/warehouses.md)
DESTINATIONS = ("duckdb", "postgres", "bigquery", "snowflake", "filesystem")
#: a pipeline name is a folder and a dataset name a schema: plain names only
PLAIN_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


def add_warehouse_options(parser: argparse.ArgumentParser, default_name: str) -> None:
    parser.add_argument(
        "--destination",
        default="duckdb",
        help="duckdb (default), postgres, bigquery, snowflake, filesystem (a Parquet lake) or another dlt destination",
    )
    parser.add_argument(
        "--dataset-name", default=default_name, help=f"dataset/schema to load into (default {default_name})"
    )
    parser.add_argument("--pipeline-name", default=default_name, help=f"dlt pipeline name (default {default_name})")


def add_sync_options(parser: argparse.ArgumentParser, vendor: Vendor) -> None:
    excluded = " and ".join(vendor.default_excluded)
    parser.add_argument(
        "--resources",
        help="comma-separated resources, or `all`; default: " + (f"all but {excluded}" if excluded else "all"),
    )
    parser.add_argument("--start-date", help="ISO date: load nothing older (first run / full refresh)")
    parser.add_argument(
        "--full-refresh", action="store_true", help="drop this source's tables and state, then load everything"
    )
    parser.add_argument(
        "--drop-pending",
        action="store_true",
        help="discard the load packages an earlier run could not load (the error line names them);"
        " their records are extracted again",
    )
    parser.add_argument(
        "--progress",
        nargs="?",
        const="log",
        default="auto",
        choices=PROGRESS_CHOICES,
        help="auto (default): a live line per resource on a terminal, a line every 5 s otherwise;"
        " none; or one of dlt's collectors (bare --progress: log)",
    )
    parser.add_argument(
        "--max-parallel-accounts",
        type=int,
        metavar="N",
        help=f"accounts synced at once (default: {vendor.section}.max_parallel_accounts, else 8)",
    )
    parser.add_argument("--demo", action="store_true", help="run against a local sandbox with generated data (offline)")


def build_parser(vendor: Vendor) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=vendor.prog,
        description=f"Sync {vendor.title} into a warehouse"
        + (f"; also: {', '.join(vendor.commands)}" if vendor.commands else "")
        + f". `{vendor.prog} COMMAND --help` lists a command's options.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = commands.add_parser(RUN, help=f"sync {vendor.title} (the default command)")
    add_warehouse_options(run, vendor.name)
    add_sync_options(run, vendor)
    status = commands.add_parser(STATUS, help="is the data fresh? rows, newest record and last load per table")
    add_warehouse_options(status, vendor.name)
    add_status_options(status)
    if vendor.checked_tables:
        verify = commands.add_parser(VERIFY, help="compare the warehouse with the API's own numbers, month by month")
        add_warehouse_options(verify, vendor.name)
        add_verify_options(verify)
    for name, command in vendor.commands.items():
        sub = commands.add_parser(name, help=command.help)
        if command.warehouse_options:
            add_warehouse_options(sub, vendor.name)
        command.add_options(sub)
    return parser


def parse_args(vendor: Vendor, argv: Optional[Sequence[str]]) -> argparse.Namespace:
    """`run` is implied when the first word is an option (`wootric-pipeline --demo`) or missing."""
    args: List[str] = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(vendor)
    if not args or (args[0].startswith("-") and args[0] not in ("-h", "--help")):
        args.insert(0, RUN)
    return parser.parse_args(args)


def check_warehouse_options(args: argparse.Namespace) -> None:
    """Refuse what would go wrong later or silently: `--destination ''` reuses the destination saved in
    the pipeline's state, a name dlt does not know fails only after the extract, and a name with `/`,
    `..` or a space becomes a folder elsewhere or a schema dlt renames."""
    destination = getattr(args, "destination", None)
    if destination is not None and destination not in DESTINATIONS:
        if not destination.strip():
            raise ConfigError(f"--destination: no destination given; e.g. {', '.join(DESTINATIONS)}")
        try:
            Destination.from_reference(destination)  # a dlt destination, or one named in config
        except UnknownDestinationModule:
            raise ConfigError(
                f"--destination: unknown destination {destination!r}; not a dlt destination"
                f" (e.g. {', '.join(DESTINATIONS)}) nor one configured with destination_type"
            ) from None
    for option in ("pipeline_name", "dataset_name"):
        value = getattr(args, option, None)
        if value is not None and not PLAIN_NAME.fullmatch(value):
            raise ConfigError(
                f"--{option.replace('_', '-')}: {value!r} is not a plain name"
                " (1-64 letters, digits, _ and -; no spaces, dots or slashes)"
            )


def main(vendor: Vendor, argv: Optional[List[str]] = None) -> int:
    # what the imports built lives as long as the process: keep the garbage collector from walking it
    # again on every collection the run's pages and rows set off (W1: about 0.5 CPU-s)
    gc.freeze()
    args = parse_args(vendor, argv)
    install_log_filters(vendor)
    return run_cli(lambda: dispatch(vendor, args))


def install_log_filters(vendor: Vendor) -> None:
    dlt_logger = logging.getLogger("dlt")
    for log_filter in vendor.log_filters:
        if log_filter not in dlt_logger.filters:
            dlt_logger.addFilter(log_filter)


def dispatch(vendor: Vendor, args: argparse.Namespace) -> int:
    check_warehouse_options(args)  # inside run_cli: a bad name or destination ends in one `error:` line
    if getattr(args, "destination", None) == "filesystem":
        logging.getLogger("dlt").addFilter(MergeFallbacks())
    if args.command == STATUS:
        return run_status(vendor, args)
    if args.command == VERIFY:
        return run_verify(vendor, args)
    if args.command != RUN:
        return vendor.commands[args.command].run(args)
    if args.demo:
        return vendor.demo(vendor, args)
    themes = themes_after_sync(vendor, args.destination)  # checked before any request
    with recorded_run(get_dlt_pipelines_dir(), args):  # what `status` reports of the last run
        result = run_sync(vendor, args)
        print_summary(result, f"{args.destination} dataset {args.dataset_name!r}")
        if result.views:
            print(f"analyst views: {', '.join(result.views)}{where_views_are(result.pipeline)}")
        elif (note := views_not_built(result.pipeline)) is not None:
            print(note)
        if themes:  # the synced accounts: all of them (a failed account ends the run before this)
            write_themes(vendor, args, accounts=account_names(vendor) or [single_account(vendor)])
    return 0
