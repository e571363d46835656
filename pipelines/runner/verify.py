"""`verify`: the warehouse against the API's own numbers (`sources/<vendor>/checks.py`), every account
and UTC month; `--deep` lists the ids either side lacks, `--repair` loads the months that differ again
and marks rows the API no longer holds with `deleted_at`. Every figure is appended to `reconciliation`
by a pipeline of its own (`<pipeline-name>_verify`), so a `--full-refresh` of the sync leaves it.
"""

import argparse
import contextlib
import functools
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, ContextManager, Dict, Iterator, List, Optional, Tuple

from dlt.common.pipeline import get_dlt_pipelines_dir

from pipelines.runner.accounts import Unit, plan_units, single_account
from pipelines.runner.bounded import api_ids, reload, scratch_folder
from pipelines.runner.cli import EXIT_MISMATCH, EXIT_STALE, explain
from pipelines.runner.lock import pipeline_lock
from pipelines.runner.reconcile import (
    RECONCILIATION,
    Range,
    Warehouse,
    month_of,
    month_ranges,
    parse_months,
)
from pipelines.runner.sync import AccountsFailed, make_pipeline, stops_all
from pipelines.runner.vendor import Vendor
from pipelines.warehouse.destinations import DEFAULT_DUCKDB_FILE, existing_dataset
from sources.record_kit.checks import TableCheck

VERIFY = "verify"
logger = logging.getLogger(__name__)

#: ids listed per month and side; the rest are counted
_SHOWN_IDS = 20


def add_verify_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--months", help="only these UTC months: 2024-01..2024-03 or 2024-02 (default: every month)")
    parser.add_argument("--deep", action="store_true", help="walk the months' ids and list what either side lacks")
    parser.add_argument(
        "--repair",
        action="store_true",
        help="load the months that differ again and mark rows the API no longer holds with deleted_at",
    )


@dataclass
class Finding:
    """One figure of one account, table and month, from both sides."""

    account: str
    table: str
    measure: str
    month: datetime
    api: int
    warehouse: int
    #: --deep: ids only the API holds, ids only the warehouse holds
    api_only: Optional[List[Any]] = None
    warehouse_only: Optional[List[Any]] = None
    after_repair: bool = False

    @property
    def differs(self) -> bool:
        return self.api != self.warehouse or bool(self.api_only) or bool(self.warehouse_only)


@dataclass
class Plan:
    """One account: its unit (pipeline and source), its name in the `account` column, its months."""

    unit: Unit
    account: str
    ranges: List[Range]
    findings: List[Finding] = field(default_factory=list)


def run_verify(vendor: Vendor, args: argparse.Namespace, duckdb_file: str = DEFAULT_DUCKDB_FILE) -> int:
    """Compare, list, repair if asked, record; 0 when every month matches (after a repair), 9 when one
    differs, 8 when an account was never loaded (it could not be checked). An account whose API fails
    (refused credentials, API down) does not stop the others: verify ends in that failure, naming it."""
    months = parse_months(args.months) if args.months else None
    checks = list(vendor.checked_tables.values())
    # each account's source as its sync selects it: a repair loads the history the sync keeps (bounded.py)
    units = plan_units(vendor, args.pipeline_name, None, None)
    where = f"{args.destination} dataset {args.dataset_name!r}"
    never: List[str] = []
    dataset = existing_dataset(args.destination, args.dataset_name, duckdb_file)
    if dataset is None:
        print(f"{where} has never been loaded: run `{vendor.prog}` first")
        return EXIT_STALE
    read = functools.partial(reader, dataset, args.destination)
    with read() as warehouse:
        loaded = warehouse.loaded_schemas()
        plans = []
        for unit in units:
            account = unit.account or single_account(vendor)
            bounds = warehouse.bounds(account, checks)
            if bounds is None and unit.source.name not in loaded:
                print(f"{account}: never loaded into {where}: not checked")
                never.append(account)
            elif bounds is None:
                print(f"{account}: no rows in {where} to verify")
            else:
                plans.append(Plan(unit, account, month_ranges(bounds.first, bounds.until, months)))
    plans = [p for p in plans if p.ranges]
    failed: Dict[str, BaseException] = {}
    for plan in plans:
        with account_failure(plan, failed):
            plan.findings = compare_totals(vendor, read, plan, checks, plan.ranges)
            if args.deep:
                plan.findings += compare_ids(read, plan, checks, plan.ranges)
    months_checked = sum(len(p.ranges) for p in plans if p.account not in failed)
    print(f"{vendor.prog} verify: {where}, {len(plans)} account(s), {months_checked} account-month(s)")
    report([f for p in plans for f in p.findings])
    if args.repair and any(f.differs for p in plans for f in p.findings):
        with pipeline_lock(get_dlt_pipelines_dir(), args.pipeline_name):
            for plan in [p for p in plans if p.account not in failed]:
                with account_failure(plan, failed):
                    repair(vendor, args, duckdb_file, read, plan)
            recreate_views(vendor, args, duckdb_file, plans)
    findings = [f for p in plans for f in p.findings]
    record(args, duckdb_file, findings)
    status = conclude(vendor, _latest(findings), months_checked, never, args.repair)
    if failed:
        for account, error in failed.items():
            logger.error("account %r: %s", account, explain(error)[0])  # type: ignore[index]
        raise AccountsFailed([(account, *explain(error)) for account, error in failed.items()])  # type: ignore[misc]
    return status


@contextlib.contextmanager
def account_failure(plan: Plan, failed: Dict[str, BaseException]) -> Iterator[None]:
    """Keep one account's failure (its credentials, its API) and go on with the others, as a sync does;
    a destination failure, a bug or an interrupt stops verify (sync.stops_all)."""
    try:
        yield
    except Exception as exc:
        if stops_all(exc):
            raise
        failed[plan.account] = exc


def conclude(vendor: Vendor, latest: List[Finding], months_checked: int, never: List[str], repaired: bool) -> int:
    """The last line and the exit status: a month that differs (9) before an account never loaded (8)."""
    months_off = sorted({(f.account, f.table, f.month) for f in latest if f.differs})
    if months_off and repaired:
        # loading them again did not help: the API's totals disagree with its own records, or it changed meanwhile
        print(
            f"{len(months_off)} table-month(s) still differ after the repair; `--deep` lists the ids either side lacks"
        )
        return EXIT_MISMATCH
    if months_off:
        print(f"{len(months_off)} table-month(s) differ; `{vendor.prog} verify --repair` loads them again")
        return EXIT_MISMATCH
    if never:
        print(f"not checked: {', '.join(never)} (never loaded); the others match ({months_checked} account-month(s))")
        return EXIT_STALE
    print(f"every month matches ({months_checked} account-month(s))")
    return 0


@contextlib.contextmanager
def reader(dataset: Any, dialect: str) -> Iterator[Warehouse]:
    """The dataset on a connection for one read: none is held while verify waits on the API."""
    with dataset.sql_client as sql:
        yield Warehouse(sql, dialect)


#: `reader` of the dataset verify checks
Read = Callable[[], ContextManager[Warehouse]]


def compare_totals(
    vendor: Vendor,
    read: Read,
    plan: Plan,
    checks: List[TableCheck],
    ranges: List[Range],
    after_repair: bool = False,
) -> List[Finding]:
    """The API's month totals (the vendor's totals source, with the account's settings) against the
    warehouse's, for every measured table."""
    account = plan.unit.account
    totals = (
        vendor.totals.with_args(name=account)(ranges=ranges, account=account)
        if account
        else vendor.totals(ranges=ranges)
    )
    api = {(row["table"], row["measure"], row["start"]): int(row["api"]) for row in totals.resources["totals"]}
    out = []
    with read() as warehouse:
        for check in [c for c in checks if c.measures]:
            ours = warehouse.measures(plan.account, check, ranges)
            out += [
                Finding(
                    plan.account, check.table, m, start, api.get((check.table, m, start), 0), ours.get((m, start), 0)
                )
                for start, _ in ranges
                for m in check.measures
            ]
    for finding in out:
        finding.after_repair = after_repair
    return out


def compare_ids(read: Read, plan: Plan, checks: List[TableCheck], ranges: List[Range]) -> List[Finding]:
    """--deep: every id of the months, both sides, one read of each table over all the months."""
    out = []
    span = (ranges[0][0], ranges[-1][1])
    for check in checks:
        theirs = api_ids(plan.unit, check, span)
        with read() as warehouse:
            ours = warehouse.ids(plan.account, check, *span)
        out += id_findings(plan.account, check, ranges, theirs, ours)
    return out


def id_findings(
    account: str,
    check: TableCheck,
    ranges: List[Range],
    theirs: Dict[Any, datetime],
    ours: Dict[Any, datetime],
    after_repair: bool = False,
) -> List[Finding]:
    """Per month: the ids each side holds, and those only one side holds."""
    out = []
    for start, end in ranges:
        api = {i for i, c in theirs.items() if start <= c < end}
        held = {i for i, c in ours.items() if start <= c < end}
        only = (sorted(api - held, key=str), sorted(held - api, key=str))
        out.append(Finding(account, check.table, "ids", start, len(api), len(held), *only, after_repair))
    return out


def repair(vendor: Vendor, args: argparse.Namespace, duckdb_file: str, read: Read, plan: Plan) -> None:
    """Load each table's differing months again, mark what the API no longer holds, check again."""
    now = datetime.now(timezone.utc)
    by_start = {start: (start, end) for start, end in plan.ranges}
    for check in vendor.checked_tables.values():
        ranges = sorted({by_start[f.month] for f in plan.findings if f.table == check.table and f.differs})
        if not ranges:
            continue
        seen = reload(vendor, args, plan.unit, check, ranges, duckdb_file)
        marked = 0
        ours: Dict[Any, datetime] = {}
        with read() as warehouse:
            for span, theirs in seen.items():
                held = warehouse.ids(plan.account, check, *span)
                gone = set(held) - set(theirs)
                marked += warehouse.mark_deleted(plan.account, check, gone, now)
                ours.update({i: c for i, c in held.items() if i not in gone})
        loaded = sum(len(t) for t in seen.values())
        months = ", ".join(_month(s) for s, _ in ranges)
        print(
            f"repaired: {plan.account} {check.table} {months}: {loaded:,} records loaded again, {marked} marked deleted"
        )
        if check.measures:
            plan.findings += compare_totals(vendor, read, plan, [check], ranges, after_repair=True)
        if args.deep or not check.measures:
            theirs_all = {i: c for t in seen.values() for i, c in t.items()}
            plan.findings += id_findings(plan.account, check, ranges, theirs_all, ours, after_repair=True)


def recreate_views(vendor: Vendor, args: argparse.Namespace, duckdb_file: str, plans: List[Plan]) -> None:
    """The analyst views again, now that a table may have gained `deleted_at` (the account's schema is
    read from the destination into a throwaway folder; its own pipeline folder is not touched)."""
    with scratch_folder("verify") as scratch:
        for plan in plans:
            pipeline = make_pipeline(args, duckdb_file, scratch, pipeline_name=plan.unit.pipeline_name)
            pipeline.sync_destination()
            if pipeline.default_schema_name:
                vendor.create_views(pipeline, args.dataset_name)
                return


def record(args: argparse.Namespace, duckdb_file: str, findings: List[Finding]) -> None:
    """Append every figure to `reconciliation`, under the pipeline `<pipeline-name>_verify`."""
    if not findings:
        return
    checked_at = datetime.now(timezone.utc)
    rows = [
        {
            "account": f.account,
            "table": f.table,
            "measure": f.measure,
            "month": f.month.date(),
            "api": f.api,
            "warehouse": f.warehouse,
            "difference": f.api - f.warehouse,
            "api_only": None if f.api_only is None else len(f.api_only),
            "warehouse_only": None if f.warehouse_only is None else len(f.warehouse_only),
            "after_repair": f.after_repair,
            "checked_at": checked_at,
        }
        for f in findings
    ]
    columns = {
        name: {"data_type": kind, "nullable": True}
        for name, kind in (("api_only", "bigint"), ("warehouse_only", "bigint"), ("month", "date"))
    }
    with scratch_folder("verify") as scratch:
        pipeline = make_pipeline(args, duckdb_file, scratch, pipeline_name=f"{args.pipeline_name}_{VERIFY}")
        pipeline.run(rows, table_name=RECONCILIATION, write_disposition="append", columns=columns)


def report(findings: List[Finding]) -> None:
    """The months that differ, one line each; for --deep, the ids either side lacks."""
    for f in findings:
        if not f.differs:
            continue
        where = f"{f.account} {f.table} {_month(f.month)}"
        if f.measure != "ids":
            print(f"differs: {where} {f.measure}: api {f.api:,}, warehouse {f.warehouse:,} ({f.warehouse - f.api:+,})")
            continue
        print(f"differs: {where} ids: api {f.api:,}, warehouse {f.warehouse:,}")
        for label, ids in (
            ("the API holds, the warehouse lacks", f.api_only),
            ("the warehouse holds, the API lacks", f.warehouse_only),
        ):
            if ids:
                shown = ", ".join(str(i) for i in ids[:_SHOWN_IDS]) + (
                    f" and {len(ids) - _SHOWN_IDS} more" if len(ids) > _SHOWN_IDS else ""
                )
                print(f"  {label} ({len(ids)}): {shown}")


def _latest(findings: List[Finding]) -> List[Finding]:
    """Each (account, table, measure, month) as last checked: after a repair, the second look."""
    last: Dict[Tuple[str, str, str, datetime], Finding] = {}
    for f in findings:
        key = (f.account, f.table, f.measure, f.month)
        if key not in last or f.after_repair:
            last[key] = f
    return list(last.values())


def _month(value: datetime) -> str:
    return month_of(value).strftime("%Y-%m")
