"""What both vendors' `--demo` share: DuckDB in a file of its own, two syncs against a sandbox, and
a check of every landed id against the sandbox's ground truth."""

import argparse
import time
from pathlib import Path
from typing import Any, Callable, Collection, Dict, Tuple

from analytics.report import write_report
from pipelines.runner.sync import SyncResult, print_counts, run_sync
from pipelines.warehouse.destinations import DEMO_DUCKDB_FILE as DEMO_FILE
from pipelines.warehouse.themes import extra_missing, write_themes


def demo_args(args: argparse.Namespace, vendor: str) -> argparse.Namespace:
    """The demo always loads into DuckDB, under its own pipeline name unless one was given."""
    if args.destination != "duckdb":
        print("note: --demo always loads into DuckDB")
        args.destination = "duckdb"
    if args.pipeline_name == vendor:
        args.pipeline_name = f"{vendor}_demo"
    return args


def check_against_truth(pipeline: Any, dataset: str, served: Dict[str, Collection[Any]], id_column: str) -> bool:
    """Served vs landed ids per table: nothing missing, nothing doubled, nothing extra."""
    ok = True
    width = max(len(table) for table in served)
    with pipeline.sql_client() as sql:
        print("check against the sandbox's ground truth:")
        for table, ids in served.items():
            truth = set(ids)
            landed = [row[0] for row in sql.execute_sql(f"SELECT {id_column} FROM {dataset}.{table}")]
            missing = len(truth - set(landed))
            duplicated = len(landed) - len(set(landed))
            extra = len(set(landed) - truth)
            ok &= missing == 0 and duplicated == 0 and extra == 0
            print(
                f"  {table:<{width}}  served {len(truth):>6,}  landed {len(landed):>6,}"
                f"  missing {missing}  duplicated {duplicated}"
            )
    return ok


def sync_twice(
    vendor: Any,
    args: argparse.Namespace,
    server: Any,
    change: Callable[[], None],
    labels: Tuple[str, str],
    **overrides: Any,
) -> SyncResult:
    """A full sync, then `change()` on the sandbox's data, then an incremental sync; each with its counts."""
    args.full_refresh = True
    started = time.monotonic()
    result = run_sync(vendor, args, duckdb_file=DEMO_FILE, base_url=server.url, **overrides)
    stats = server.stats()
    print_counts(result.rows, f"{DEMO_FILE}, dataset {args.dataset_name!r} ({labels[0]})")
    print(f"  {_requests(stats)}, {stats['rate_limited']} answered 429, {time.monotonic() - started:.1f}s")
    change()
    server.reset_stats()
    args.full_refresh = False
    result = run_sync(vendor, args, duckdb_file=DEMO_FILE, base_url=server.url, **overrides)
    print_counts(result.rows, f"the same dataset ({labels[1]})")
    print(f"  {_requests(server.stats())}")
    return result


def _requests(stats: Dict[str, Any]) -> str:
    tokens = f" + {stats['token_requests']} token request(s)" if "token_requests" in stats else ""
    return f"{stats['requests']} API requests{tokens}"


def demo_themes(vendor: Any, args: argparse.Namespace) -> None:
    """Comment themes of what the demo loaded when the [themes] extra is installed; else how to get them."""
    missing = extra_missing()
    if missing:
        print(f"themes: not made; {missing}")
        return
    write_themes(vendor, args, DEMO_FILE)


def write_demo_report(pipeline: Any, redraw: str) -> None:
    """The NPS report of what the demo loaded, in the working directory, and where it is."""
    with pipeline.sql_client() as sql:
        png, page = write_report(sql, sql.fully_qualified_dataset_name(), Path("."))
    print(f"report: {page.resolve()}")
    print(f"        {png.resolve()}")
    print(f"  redraw it: {redraw}")
