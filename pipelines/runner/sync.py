"""One sync of one vendor, every account: the runner every vendor's entry script calls."""

import argparse
import logging
from typing import Any, List, Optional, Tuple

import dlt
from dlt.common.pipeline import get_dlt_pipelines_dir
from dlt.destinations.adapters import bigquery_adapter
from dlt.pipeline.helpers import pipeline_drop

from pipelines.runner.accounts import make_sources, single_account
from pipelines.runner.cli import FailureWithStatus, explain
from pipelines.runner.lock import pipeline_lock
from pipelines.runner.pending import drop_pending, load_pending
from pipelines.runner.progress import progress_for
from pipelines.runner.summary import SyncResult, print_counts, row_counts
from pipelines.runner.vendor import Vendor
from pipelines.warehouse.destinations import (
    DEFAULT_DUCKDB_FILE,
    LOADER_FILE_FORMAT,
    destination_for,
    extract_buffer_settings,
)
from pipelines.warehouse.migrations import upgrade_dataset

logger = logging.getLogger(__name__)


def make_pipeline(
    args: argparse.Namespace, duckdb_file: str = DEFAULT_DUCKDB_FILE, pipelines_dir: Optional[str] = None
) -> Any:
    return dlt.pipeline(
        pipeline_name=args.pipeline_name,
        pipelines_dir=pipelines_dir,
        destination=destination_for(args.destination, args.dataset_name, duckdb_file),
        dataset_name=args.dataset_name,
        progress=progress_for(getattr(args, "progress", "none")),
    )


def run_sync(
    vendor: Vendor, args: argparse.Namespace, duckdb_file: str = DEFAULT_DUCKDB_FILE, **source_overrides: Any
) -> SyncResult:
    """Sync every configured account of `vendor`, one after another, then (re)create its views.

    An account that fails in its extract (refused credentials, API down) does not stop the others;
    the run then ends with one line naming each failed account. A failure after the extract is the
    destination's, which every account would meet: it stops the run. With several accounts, a full
    refresh first drops what every account's schema holds and resets every account's state.

    A second run of the same pipeline (name and pipelines folder) refuses before dlt opens the
    pipeline: two runs would share its state and load packages (pipelines/runner/lock.py).
    """
    pipelines_dir = get_dlt_pipelines_dir()
    with pipeline_lock(pipelines_dir, args.pipeline_name), extract_buffer_settings():
        return _run(vendor, args, duckdb_file, pipelines_dir, source_overrides)


def _run(vendor: Vendor, args: argparse.Namespace, duckdb_file: str, pipelines_dir: str, overrides: Any) -> SyncResult:
    pipeline = make_pipeline(args, duckdb_file, pipelines_dir)
    sources = make_sources(vendor, args.resources, args.start_date, **overrides)
    multi = len(sources) > 1
    if not (args.full_refresh and not args.resources):  # a full refresh drops the old tables anyway
        upgrade_dataset(pipeline, vendor.account_tables, None if multi else single_account(vendor), vendor.name)
    if args.full_refresh:
        # views depend on the tables a refresh drops (Postgres refuses to drop them otherwise)
        vendor.drop_views(pipeline, args.dataset_name)
    refresh = ("drop_resources" if args.resources else "drop_sources") if args.full_refresh else None
    result = SyncResult(pipeline)
    if getattr(args, "drop_pending", False):
        result.notes = drop_pending(pipeline)  # the state rewinds: this run extracts their records again
    # an earlier run's packages (a failed load, a killed run): dlt's run() would load them uncounted
    result.earlier_rows = load_pending(pipeline)
    if multi and refresh:
        drop_accounts(vendor, pipeline, sources, bool(args.resources))
        refresh = None
    failures: List[Tuple[str, str, int]] = []
    for source in sources:
        if args.destination == "bigquery":
            apply_bigquery_layout(vendor, source)
        try:
            pipeline.run(source, loader_file_format=LOADER_FILE_FORMAT.get(args.destination), refresh=refresh)
        except Exception as exc:  # noqa: BLE001 - an expected failure of one account is reported at the end
            explained = explain(exc)
            if explained is None or not multi or pipeline.has_pending_data:
                raise
            failures.append((source.name, *explained))
            logger.error("account %r: %s", source.name, explained[0])
            continue
        for table, n in row_counts(pipeline).items():
            result.rows[table] = result.rows.get(table, 0) + n
    result.views = vendor.create_views(pipeline, args.dataset_name)
    if failures:
        print_counts(result.rows, f"{args.destination} dataset {args.dataset_name!r} (accounts that succeeded)")
        raise AccountsFailed(failures)
    return result


def apply_bigquery_layout(vendor: Vendor, source: Any) -> Any:
    """Partitioning and clustering through dlt's BigQuery adapter (other destinations ignore them)."""
    for name, layout in vendor.bigquery_layout.items():
        if name in source.resources:
            bigquery_adapter(source.resources[name], **layout)
    return source


def drop_accounts(vendor: Vendor, pipeline: Any, sources: List[Any], selected_only: bool) -> None:
    """A full refresh of several accounts that share tables: drop the tables (all, or the selected
    resources') and reset the state of every account's schema, before any account loads again."""
    pipeline.sync_destination()  # schemas and state may live only in the destination
    resources = list(sources[0].selected_resources) if selected_only else []
    # the single-account schema too: its tables may hold what the accounts are to reload
    for name in dict.fromkeys([source.name for source in sources] + [vendor.source.name]):
        if name not in pipeline.schema_names:
            continue  # never loaded: nothing of its own to drop
        pipeline_drop(
            pipeline,
            resources=resources,
            schema_name=name,
            state_paths=() if selected_only else "*",
            drop_all=not selected_only,
        )()


class AccountsFailed(FailureWithStatus):
    """Some accounts failed; the others loaded. The exit status is the first failure's."""

    def __init__(self, failures: List[Tuple[str, str, int]]) -> None:
        super().__init__("; ".join(f"account {name!r}: {message}" for name, message, _ in failures), failures[0][2])
