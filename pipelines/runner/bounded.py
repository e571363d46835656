"""One span of a table read again through the vendor's own resource, for `verify --deep` (the ids) and
`verify --repair` (loaded, with the table's history resource when the sync selects it).

An explicit `initial_value` and `end_value` give dlt a throwaway incremental state, so the account's
state is neither read nor written. A repair loads under a pipeline (`<account pipeline>_repair`, in a
throwaway folder) and a schema (`<source>_repair`) of its own: the account's stay as they were.
"""

import argparse
import contextlib
import glob
import os
import shutil
import tempfile
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, Iterator, List

import dlt

from pipelines.runner.accounts import Unit
from pipelines.runner.lock import pid_alive
from pipelines.runner.reconcile import Range
from pipelines.runner.sync import apply_bigquery_layout, make_pipeline
from pipelines.runner.vendor import Vendor
from pipelines.warehouse.destinations import LOADER_FILE_FORMAT
from sources.record_kit.checks import TableCheck, ids_and_created

#: what a repair's pipeline and schema add to the account's names
REPAIR_SUFFIX = "_repair"


@contextlib.contextmanager
def scratch_folder(kind: str) -> Iterator[str]:
    """A temporary `feedback-<kind>-<pid>-*` folder for the block; first removes those a killed process left."""
    prefix = f"feedback-{kind}-"
    for left in glob.glob(os.path.join(tempfile.gettempdir(), f"{prefix}*")):
        pid = os.path.basename(left)[len(prefix) :].split("-", 1)[0]
        if pid.isdigit() and not pid_alive(int(pid)):
            shutil.rmtree(left, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix=f"{prefix}{os.getpid()}-") as folder:
        yield folder


def _bound(resource: Any, check: TableCheck, start: datetime, end: datetime) -> None:
    """Only records whose cursor lies in [start, end): a creation-time cursor bounds the span itself;
    another (end users' `updated_at`) is read from `start` on, as a record created in the span may
    have been updated any time since."""
    end_value = end if check.cursor_is_creation else datetime.now(timezone.utc) + timedelta(days=1)
    resource.apply_hints(
        incremental=dlt.sources.incremental(
            check.cursor, initial_value=start, end_value=end_value, range_start="closed", primary_key=()
        )
    )


class Seen:
    """Ids (and creation times) of the records a resource yielded, collected as they pass."""

    def __init__(self, check: TableCheck) -> None:
        self.check = check
        self.records: Dict[Any, datetime] = {}

    def __call__(self, item: Any) -> Any:
        for record_id, created in ids_and_created(item, self.check.api_id, self.check.api_created):
            self.records[record_id] = created
        return item

    def within(self, start: datetime, end: datetime) -> Dict[Any, datetime]:
        return {i: c for i, c in self.records.items() if c is not None and start <= c < end}


def api_ids(unit: Unit, check: TableCheck, span: Range) -> Dict[Any, datetime]:
    """id -> creation time of every record the API holds that was created in the span (not loaded)."""
    resource = unit.source.resources[check.table]
    _bound(resource, check, *span)
    seen = Seen(check)
    for item in resource:
        seen(item)
    return seen.within(*span)


def reload(
    vendor: Vendor, args: argparse.Namespace, unit: Unit, check: TableCheck, ranges: List[Range], duckdb_file: str
) -> Dict[Range, Dict[Any, datetime]]:
    """Extract and load each range of one table again, with the history its sync keeps of it (a history
    resource the account's source selects); per range, the ids the API returned."""
    history = [
        h for h, parent in vendor.history.items() if parent == check.table and h in unit.source.selected_resources
    ]
    source = unit.source.with_resources(check.table, *history)  # a clone: this table (and its history) alone
    if args.destination == "bigquery":
        apply_bigquery_layout(vendor, source)
    seen = Seen(check)
    resource = source.resources[check.table]
    resource.add_map(seen)
    out: Dict[Range, Dict[Any, datetime]] = {}
    with scratch_folder("repair") as scratch:
        pipeline = make_pipeline(args, duckdb_file, scratch, pipeline_name=unit.pipeline_name + REPAIR_SUFFIX)
        schema = dlt.Schema(source.name + REPAIR_SUFFIX)
        for span in ranges:
            seen.records = {}
            _bound(resource, check, *span)
            pipeline.extract(source, schema=schema, loader_file_format=LOADER_FILE_FORMAT.get(args.destination))
            pipeline.normalize()
            pipeline.load()
            out[span] = seen.within(*span)
    return out
