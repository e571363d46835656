"""The command line every vendor's entry script hands to: parse, dispatch, print, exit."""

import argparse
import gc
import logging
from typing import List, Optional

from dlt.common.pipeline import get_dlt_pipelines_dir

from pipelines.runner.cli import run_cli
from pipelines.runner.lock import recorded_run
from pipelines.runner.options import RUN, check_warehouse_options, parse_args
from pipelines.runner.status import STATUS, run_status
from pipelines.runner.sync import print_summary, run_sync
from pipelines.runner.vendor import Vendor
from pipelines.runner.verify import VERIFY, run_verify
from pipelines.warehouse.lake import MergeFallbacks
from pipelines.warehouse.views import views_not_built, where_views_are


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
    with recorded_run(get_dlt_pipelines_dir(), args):  # what `status` reports of the last run
        result = run_sync(vendor, args)
    print_summary(result, f"{args.destination} dataset {args.dataset_name!r}")
    if result.views:
        print(f"analyst views: {', '.join(result.views)}{where_views_are(result.pipeline)}")
    elif (note := views_not_built(result.pipeline)) is not None:
        print(note)
    return 0
