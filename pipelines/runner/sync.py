"""One sync of one vendor, every account: the runner every vendor's entry script calls."""

import argparse
import contextlib
import dataclasses
import logging
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import dlt
from dlt.common.pipeline import get_dlt_pipelines_dir
from dlt.destinations.adapters import bigquery_adapter
from dlt.pipeline.helpers import pipeline_drop

from pipelines.runner.accounts import Unit, plan_units
from pipelines.runner.cli import EXIT_DESTINATION, FailureWithStatus, explain
from pipelines.runner.gate import DestinationGate
from pipelines.runner.lock import pipeline_lock
from pipelines.runner.parallel import DEFAULT_MAX_PARALLEL_ACCOUNTS, UnitOutcome, run_units
from pipelines.runner.pending import describe_job_failure, drop_pending, load_pending
from pipelines.runner.progress import progress_for
from pipelines.runner.vendor import Vendor
from pipelines.warehouse.bigquery import json_as_values, retrying_concurrent_updates
from pipelines.warehouse.destinations import (
    DEFAULT_DUCKDB_FILE,
    LOADER_FILE_FORMAT,
    default_writer_buffer,
    destination_for,
    duckdb_path,
)
from sources.http_kit import ConfigError

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class SyncResult:
    """What one sync did: the dlt pipeline, rows loaded per table (all accounts), the views made."""

    pipeline: Any
    rows: Dict[str, int] = dataclasses.field(default_factory=dict)
    views: List[str] = dataclasses.field(default_factory=list)
    #: rows of packages an earlier run extracted but did not load (a failed load, a killed run)
    earlier_rows: Dict[str, int] = dataclasses.field(default_factory=dict)
    #: what the run did besides loading (packages discarded with --drop-pending)
    notes: List[str] = dataclasses.field(default_factory=list)


def make_pipeline(
    args: argparse.Namespace,
    duckdb_file: str = DEFAULT_DUCKDB_FILE,
    pipelines_dir: Optional[str] = None,
    *,
    pipeline_name: Optional[str] = None,
    live_progress: Optional[bool] = None,
    account: Optional[str] = None,
) -> Any:
    default_writer_buffer()
    return dlt.pipeline(
        pipeline_name=pipeline_name or args.pipeline_name,
        pipelines_dir=pipelines_dir,
        destination=destination_for(args.destination, args.dataset_name, duckdb_file, account),
        dataset_name=args.dataset_name,
        progress=progress_for(getattr(args, "progress", "none"), live_progress),
    )


def max_parallel_accounts(vendor: Vendor, args: argparse.Namespace) -> int:
    """`--max-parallel-accounts`, else `sources.<vendor>.max_parallel_accounts`, else the default."""
    value, key = getattr(args, "max_parallel_accounts", None), "--max-parallel-accounts"
    if value is None:  # 0 given on the command line is refused below, as from config
        key = f"{vendor.section}.max_parallel_accounts"
        value = dlt.config.get(key)
    if value in (None, ""):
        return DEFAULT_MAX_PARALLEL_ACCOUNTS
    if not str(value).strip().isdigit() or int(value) < 1:
        raise ConfigError(f"{key}: {value!r} is not a whole number of at least 1")
    return int(value)


def destination_gate(vendor: Vendor, args: argparse.Namespace, destination: Any, duckdb_file: str) -> DestinationGate:
    """The turn-taking of loads into this destination and dataset (gate.py). On Postgres the advisory
    lock lives in the session of a client on the dataset: not a pipeline's, whose schema a worker that
    never ran it lacks (dlt would make one named after the pipeline, and `wootric-acme` is no schema name)."""
    if args.destination == "duckdb":
        path = duckdb_path(duckdb_file)
        return DestinationGate(f"duckdb:{path or 'configured'}:{args.dataset_name}", duckdb_path=path)
    if args.destination == "postgres":

        def sql_client() -> Any:
            return dlt.dataset(destination, args.dataset_name, schema=dlt.Schema(vendor.name)).sql_client

        return DestinationGate(f"postgres:{args.dataset_name}", postgres=sql_client)
    return DestinationGate(f"{args.destination}:{args.dataset_name}")


def run_sync(
    vendor: Vendor, args: argparse.Namespace, duckdb_file: str = DEFAULT_DUCKDB_FILE, **source_overrides: Any
) -> SyncResult:
    """Sync every configured account, side by side (one failing account does not stop the others; a
    destination failure starts no further one), then (re)create the views; under the pipeline's lock."""
    pipelines_dir = get_dlt_pipelines_dir()
    with pipeline_lock(pipelines_dir, args.pipeline_name):
        return _run(vendor, args, duckdb_file, pipelines_dir, source_overrides)


def _run(vendor: Vendor, args: argparse.Namespace, duckdb_file: str, pipelines_dir: str, overrides: Any) -> SyncResult:
    units = plan_units(vendor, args.pipeline_name, args.resources, args.start_date, **overrides)
    parallel = min(max_parallel_accounts(vendor, args), len(units))
    # the dataset's own pipeline: the single account's; with accounts only a refresh needs it (to drop what
    # runs before the account list loaded), so `dlt pipeline wootric info` shows no empty one beside theirs
    base = make_pipeline(args, duckdb_file, pipelines_dir) if units[0].account is None or args.full_refresh else None
    destination = base.destination if base else destination_for(args.destination, args.dataset_name, duckdb_file)
    gate = destination_gate(vendor, args, destination, duckdb_file)
    refresh = ("drop_resources" if args.resources else "drop_sources") if args.full_refresh else None
    if args.full_refresh:
        with gate.turn(f"pipeline {args.pipeline_name!r}"):
            # views depend on the tables a refresh drops (Postgres refuses to drop them otherwise)
            vendor.drop_views(base, args.dataset_name)
            if units[0].account is not None:
                drop_accounts(vendor, base, units, bool(args.resources), args, duckdb_file, pipelines_dir)
                refresh = None
    result = SyncResult(base)

    def work(unit: Unit, outcome: UnitOutcome) -> None:
        pipeline = make_pipeline(
            args,
            duckdb_file,
            pipelines_dir,
            pipeline_name=unit.pipeline_name,
            live_progress=None if parallel == 1 else False,
            account=unit.account,
        )
        outcome.notes, outcome.pending_rows = catch_up(pipeline, unit.label, gate, getattr(args, "drop_pending", False))
        outcome.rows = load_source(vendor, pipeline, unit.source, unit.label, args.destination, gate, refresh)

    outcomes = run_units(units, work, parallel, stops_all=stops_all)
    for outcome in outcomes:
        result.notes += outcome.notes
        for counts, total in ((outcome.pending_rows, result.earlier_rows), (outcome.rows, result.rows)):
            for table, n in counts.items():
                total[table] = total.get(table, 0) + n
    failed = [(o, o.error) for o in outcomes if o.error is not None]
    fatal = [error for _, error in failed if stops_all(error) or len(units) == 1]
    if fatal:
        raise fatal[0]
    loaded = [o.unit for o in outcomes if o.error is None]
    viewed, result.views = create_views_after(vendor, args, duckdb_file, loaded, gate)
    result.pipeline = base or viewed
    if failed:
        for outcome, error in failed:
            logger.error("%s: %s", outcome.unit.label, explain(error)[0])  # type: ignore[index]
        print_counts(result.rows, f"{args.destination} dataset {args.dataset_name!r} (accounts that succeeded)")
        raise AccountsFailed([(o.unit.account or "", *explain(e)) for o, e in failed])  # type: ignore[misc]
    return result


@dataclasses.dataclass
class AccountSync:
    """One account as one Airflow task syncs it: its unit, pipeline and gate, opened once for the task."""

    vendor: Vendor
    args: argparse.Namespace
    unit: Unit
    pipeline: Any
    gate: DestinationGate
    #: rows of an earlier run's packages loaded when the account was opened
    pending_rows: Dict[str, int]

    def load(self, resources: Optional[List[str]] = None) -> Dict[str, int]:
        """Extract, normalize and load these resources (default: the unit's selection); rows per table."""
        source = self.unit.source.with_resources(*resources) if resources else self.unit.source
        return load_source(self.vendor, self.pipeline, source, self.unit.label, self.args.destination, self.gate)

    @property
    def state(self) -> Dict[str, Any]:
        """The account's source state (dlt reads it from the pipeline's folder: a copy)."""
        return self.pipeline.state.get("sources", {}).get(self.unit.source.name, {})

    def change_state(self, change: Callable[[Dict[str, Any]], None], load: bool = False) -> None:
        """`change` edits the source state locally (dlt carries it to the destination in the account's next
        load package), or in a package of its own loaded at once with `load`."""
        with self.pipeline.managed_state(extract_state=load) as state:
            change(state.setdefault("sources", {}).setdefault(self.unit.source.name, {}))
        if load:
            with self.gate.turn(self.unit.label), blocked_packages_named():
                self.pipeline.normalize()
                self.pipeline.load()


@contextlib.contextmanager
def account_sync(
    vendor: Vendor, args: argparse.Namespace, account: Optional[str], duckdb_file: str = DEFAULT_DUCKDB_FILE
) -> Iterator[AccountSync]:
    """One account (None: the single account) under its pipeline's lock, its state restored from the
    destination if newer (a fresh worker) and an earlier run's packages loaded first."""
    pipelines_dir = get_dlt_pipelines_dir()
    only = [account] if account else None
    unit = plan_units(vendor, args.pipeline_name, args.resources, args.start_date, only=only)[0]
    with pipeline_lock(pipelines_dir, unit.pipeline_name):
        pipeline = make_pipeline(
            args, duckdb_file, pipelines_dir, pipeline_name=unit.pipeline_name, live_progress=False, account=account
        )
        gate = destination_gate(vendor, args, pipeline.destination, duckdb_file)
        _, pending_rows = catch_up(pipeline, unit.label, gate)
        yield AccountSync(vendor, args, unit, pipeline, gate, pending_rows)


def create_views_after(
    vendor: Vendor,
    args: argparse.Namespace,
    duckdb_file: str = DEFAULT_DUCKDB_FILE,
    loaded: Optional[List[Unit]] = None,
    gate: Optional[DestinationGate] = None,
) -> Tuple[Any, List[str]]:
    """The analyst views, through a pipeline opened after the loads (views need the tables its schema
    lists), and that pipeline; `loaded` defaults to every configured account (the Airflow task after all
    accounts)."""
    pipelines_dir = get_dlt_pipelines_dir()
    units = loaded or plan_units(vendor, args.pipeline_name, None, None)
    pipeline = None
    for unit in units:
        pipeline = make_pipeline(args, duckdb_file, pipelines_dir, pipeline_name=unit.pipeline_name)
        if loaded is None:
            pipeline.sync_destination()  # a fresh worker: the schema lives in the destination
        if pipeline.default_schema_name:
            break
    gate = gate or destination_gate(vendor, args, pipeline.destination, duckdb_file)
    with gate.turn(f"pipeline {args.pipeline_name!r}"):
        return pipeline, vendor.create_views(pipeline, args.dataset_name)


def catch_up(
    pipeline: Any, label: str, gate: DestinationGate, drop_pending_packages: bool = False
) -> Tuple[List[str], Dict[str, int]]:
    """Before an account extracts: its state from the destination if newer, then an earlier run's packages
    (a failed load, a killed run) loaded first and counted, or discarded with --drop-pending (the notes)."""
    notes: List[str] = []
    with gate.turn(label):
        pipeline.sync_destination()
        if drop_pending_packages:
            notes = drop_pending(pipeline)  # the state rewinds: this run extracts their records again
        with blocked_packages_named():
            return notes, load_pending(pipeline)


def load_source(
    vendor: Vendor,
    pipeline: Any,
    source: Any,
    label: str,
    destination: str,
    gate: DestinationGate,
    refresh: Optional[str] = None,
) -> Dict[str, int]:
    """Extract and normalize in the calling thread, load in the destination's turn; rows per table."""
    if destination == "bigquery":
        apply_bigquery_layout(vendor, source)
    pipeline.extract(source, refresh=refresh, loader_file_format=LOADER_FILE_FORMAT.get(destination))
    info = pipeline.normalize()
    with gate.turn(label), blocked_packages_named():
        if destination == "bigquery":  # other processes' loads into the dataset take no turns with this one
            retrying_concurrent_updates(pipeline.load, label)
        else:
            pipeline.load()
    return {t: n for t, n in sorted(info.row_counts.items()) if not t.startswith("_dlt")} if info else {}


@contextlib.contextmanager
def blocked_packages_named() -> Iterator[None]:
    """A failed load job in one line with the way out (pending.py), not dlt's cut-off traceback."""
    try:
        yield
    except Exception as exc:
        blocked = describe_job_failure(exc)
        if blocked is None:
            raise
        raise FailureWithStatus(blocked, EXIT_DESTINATION) from exc


def stops_all(error: BaseException) -> bool:
    """A bug, an interrupt or the destination's failure: no point starting another account."""
    if not isinstance(error, Exception):
        return True
    explained = explain(error)
    return explained is None or explained[1] == EXIT_DESTINATION


def apply_bigquery_layout(vendor: Vendor, source: Any) -> Any:
    """Partitioning and clustering through dlt's BigQuery adapter (other destinations ignore them),
    and JSON columns as JSON values (bigquery.py)."""
    for name, layout in vendor.bigquery_layout.items():
        if name in source.resources:
            bigquery_adapter(source.resources[name], **layout)
    return json_as_values(source)


def drop_accounts(
    vendor: Vendor,
    base: Any,
    units: List[Unit],
    selected_only: bool,
    args: argparse.Namespace,
    duckdb_file: str,
    pipelines_dir: str,
) -> None:
    """A full refresh of several accounts that share tables: drop the tables (all, or the selected
    resources') and reset every account's state, before any account loads again."""
    resources = list(units[0].source.selected_resources) if selected_only else []
    base.sync_destination()  # the single-account schema too, from runs before accounts were listed
    targets: List[Tuple[Any, str]] = [(base, vendor.source.name)]
    for unit in units:
        pipeline = make_pipeline(args, duckdb_file, pipelines_dir, pipeline_name=unit.pipeline_name)
        pipeline.sync_destination()  # schemas and state may live only in the destination
        targets.append((pipeline, unit.source.name))
    for pipeline, name in targets:
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


def print_summary(result: SyncResult, where: str) -> None:
    """What this run loaded: first the rows of an earlier run's packages it finished, then its own."""
    for note in result.notes:
        print(note)
    if result.earlier_rows:
        print(f"loaded {sum(result.earlier_rows.values()):,} rows from an earlier run's load package into {where}:")
        width = max(len(t) for t in result.earlier_rows)
        for table, n in result.earlier_rows.items():
            print(f"  {table:<{width}}  {n:>9,} rows from the earlier package")
    print_counts(result.rows, where, "rows this run extracted, loaded into" if result.earlier_rows else "loaded into")


def print_counts(counts: Dict[str, int], where: str, title: str = "loaded into") -> None:
    if not counts:
        print(f"nothing new to load into {where}")
        return
    width = max(len(t) for t in counts)
    print(f"{title} {where}:")
    for table, n in counts.items():
        print(f"  {table:<{width}}  {n:>9,} rows")
