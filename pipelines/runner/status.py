"""`status`: is the data fresh? Per account and table: rows, the newest record, the last successful
load; the pending load packages and the last run here. `--max-age`: exit 8 for a scheduler.

A table's last successful load is its account schema's newest completed load: every sync of an account
loads that schema, also when nothing new arrived (a row's `_dlt_load_id` would tell when rows arrived).
"""

import argparse
import glob
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Dict, List, Optional, Tuple

from dlt.common.pipeline import get_dlt_pipelines_dir
from dlt.common.storages import (
    LoadStorage,
    LoadStorageConfiguration,
    NormalizeStorage,
    NormalizeStorageConfiguration,
)

from pipelines.runner.accounts import account_names
from pipelines.runner.cli import EXIT_STALE
from pipelines.runner.lock import Clock, pid_alive, read_holder, read_record, utc_now
from pipelines.runner.reconcile import RECONCILIATION, base_tables
from pipelines.runner.vendor import Vendor
from pipelines.warehouse.destinations import existing_dataset
from pipelines.warehouse.themes import TABLES as THEMES_TABLES
from sources.http_kit import ConfigError
from sources.record_kit.timestamps import to_utc

STATUS = "status"
_AGE = re.compile(r"(\d+(?:\.\d+)?)([dhms])")
#: the units, in the only order they may come, each once
_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def add_status_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--max-age",
        help="exit 8 when any table's last successful load is older than this: 26h, 90m, 2d, 1d12h",
    )


def parse_max_age(text: str) -> timedelta:
    """`26h`, `90m`, `2d`, `1d12h`, `45s`: a positive duration, or a ConfigError naming the option."""
    compact = text.replace(" ", "")
    parts = _AGE.findall(compact)
    units = [u for _, u in parts]
    if not compact or "".join(n + u for n, u in parts) != compact or units != [u for u in _UNITS if u in units]:
        raise ConfigError(f"--max-age: {text!r} is not a duration such as 26h, 90m, 2d or 1d12h")
    seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if seconds <= 0:
        raise ConfigError(f"--max-age: {text!r} must be longer than zero")
    try:
        return timedelta(seconds=seconds)
    except OverflowError:
        raise ConfigError(f"--max-age: {text!r} is longer than any age a load can have") from None


@dataclass
class TableStatus:
    """One table of one account, as the destination holds it."""

    account: str
    table: str
    rows: int
    newest: Optional[datetime]
    newest_column: Optional[str]
    last_success: Optional[datetime]


def stale(tables: List[TableStatus], now: datetime, max_age: timedelta) -> List[TableStatus]:
    """Tables whose account was last loaded successfully longer ago than `max_age` (or never)."""
    return [t for t in tables if t.last_success is None or now - t.last_success > max_age]


def human_age(age: timedelta) -> str:
    """`2d 3h`, `1h 59m`, `4m`, `12s`: two units at most, never negative."""
    seconds = max(0, int(age.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "m"), (secs, "s")]
    shown = [f"{n}{unit}" for n, unit in parts if n][:2]
    return " ".join(shown) or "0s"


def run_status(vendor: Vendor, args: argparse.Namespace, clock: Clock = utc_now) -> int:
    """Print the dataset's freshness and the last run here; 0, or EXIT_STALE (never loaded, too old)."""
    max_age = parse_max_age(args.max_age) if args.max_age is not None else None
    now = clock()
    where = f"{args.destination} dataset {args.dataset_name!r}"
    tables = read_tables(vendor, args)
    pipelines_dir = get_dlt_pipelines_dir()
    if tables is None:
        print(f"{where} has never been loaded by pipeline {args.pipeline_name!r}: run `{vendor.prog}` first")
        _print_local(pipelines_dir, args.pipeline_name, now)
        return EXIT_STALE
    print(f"{vendor.prog} status: {where}, pipeline {args.pipeline_name!r}, at {_when(now)}")
    _print_tables(tables, now)
    _print_local(pipelines_dir, args.pipeline_name, now)
    if max_age is None:
        return 0
    old = stale(tables, now, max_age)
    if not old:
        print(f"fresh: every table was loaded within {args.max_age}")
        return 0
    for t in old:
        what = f"{t.account} {t.table}" if t.table else t.account
        age = f"last successful load {human_age(now - t.last_success)} ago" if t.last_success else "never loaded"
        print(f"stale: {what}: {age} (more than {args.max_age})")
    return EXIT_STALE


def read_tables(vendor: Vendor, args: argparse.Namespace) -> Optional[List[TableStatus]]:
    """Every table with an `account` column, per account; None when the dataset was never loaded."""
    accounts = account_names(vendor)
    readable = existing_dataset(args.destination, args.dataset_name)
    if readable is None:
        return None
    with readable.sql_client as sql:
        dataset = sql.fully_qualified_dataset_name()
        tables = base_tables(sql, args.destination)
        if "_dlt_loads" not in tables:
            return None
        loads = sql.execute_sql(
            f"SELECT schema_name, MAX(inserted_at) FROM {dataset}._dlt_loads WHERE status = 0 GROUP BY schema_name"
        )
        last_success: Dict[str, datetime] = {str(schema): to_utc(at) for schema, at in loads}
        if not last_success:
            return None
        out = []
        # `verify`'s own table has an `account` column but is no account's data; nor are dlt's tables
        # nor are the comment themes (a run of their own, not the account's sync)
        ours = ("_", RECONCILIATION, *THEMES_TABLES)
        for table in sorted(t for t, c in tables.items() if "account" in c and not t.startswith(ours)):
            column = vendor.freshness_columns.get(table)
            column = column if column in tables[table] else None
            newest = f"MAX({sql.escape_column_name(column)})" if column else "NULL"
            rows = sql.execute_sql(
                f"SELECT account, COUNT(*), {newest} FROM {dataset}.{sql.escape_column_name(table)}"
                " GROUP BY account ORDER BY account"
            )
            for account, count, newest_value in rows:
                # several accounts: each is a dlt schema of its own name; one account: the vendor's schema
                schema = account if account in last_success else vendor.name
                out.append(
                    TableStatus(str(account), table, int(count), to_utc(newest_value), column, last_success.get(schema))
                )
    # a configured account with no rows is listed all the same: never loaded, it is stale
    out += [TableStatus(a, "", 0, None, None, last_success.get(a)) for a in set(accounts) - {t.account for t in out}]
    return sorted(out, key=lambda t: (t.account, t.table))


def _print_tables(tables: List[TableStatus], now: datetime) -> None:
    header = ("account", "table", "rows", "newest record", "last successful load")
    lines = [
        (
            t.account,
            t.table or "-",
            f"{t.rows:,}",
            f"{_when(t.newest)} ({t.newest_column})" if t.newest else "-",
            _when_ago(t.last_success, now),
        )
        for t in tables
    ]
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]
    for row in [header, *lines]:
        cells = [
            cell.rjust(w) if i == 2 else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        print("  " + "  ".join(cells).rstrip())


def _print_local(pipelines_dir: str, pipeline_name: str, now: datetime) -> None:
    """What only the machine that runs the pipeline knows: pending packages and the last run."""
    # the run's own pipeline and, with accounts, each account's (`<name>-<account>`)
    own = os.path.join(pipelines_dir, pipeline_name)
    folders = [f for f in [own, *sorted(glob.glob(glob.escape(own) + "-*"))] if os.path.isdir(f)]
    if folders:
        counts = [_pending_packages(folder) for folder in folders]
        extracted, normalized = sum(c[0] for c in counts), sum(c[1] for c in counts)
        pending = extracted + normalized
        detail = f" ({extracted} extracted, {normalized} normalized): the next run loads them first" if pending else ""
        print(f"pending load packages: {pending or 'none'}{detail}")
    else:
        print(f"pending load packages: unknown (no pipeline folder {own} on this machine)")
    holder = read_holder(pipelines_dir, pipeline_name)
    if holder and pid_alive(holder[0]):
        print(f"running now: pid {holder[0]}, started {holder[1]}")
    elif holder:
        print(f"last run: started {holder[1]} (pid {holder[0]}) and never ended: killed or crashed")
    record = read_record(pipelines_dir, pipeline_name)
    if record is None:
        print("last ended run: none recorded on this machine")
        return
    ended = to_utc(record.get("ended_at"))
    outcome = "succeeded" if record.get("exit_status") == 0 else f"failed with exit {record.get('exit_status')}"
    error = f": {record['error']}" if record.get("error") else ""
    print(
        f"last ended run: {outcome}, {_when_ago(ended, now)}"
        f" ({record.get('destination')} dataset {record.get('dataset_name')!r}){error}"
    )


def _pending_packages(folder: str) -> Tuple[int, int]:
    """A pipeline's packages extracted but not normalized, and normalized but not loaded, read through
    dlt's storages as the pipeline itself reads them (attaching the pipeline may rewrite its folder)."""
    normalize = NormalizeStorage(False, NormalizeStorageConfiguration(os.path.join(folder, "normalize")))
    load = LoadStorage(False, [], LoadStorageConfiguration(os.path.join(folder, "load")))
    return (
        len(normalize.extracted_packages.list_packages()) if normalize.is_storage_ready() else 0,
        len(load.list_normalized_packages()) if load.is_storage_ready() else 0,
    )


def _when(value: Optional[datetime]) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%SZ") if value else "-"


def _when_ago(value: Optional[datetime], now: datetime) -> str:
    return f"{_when(value)} ({human_age(now - value)} ago)" if value else "-"
