"""What a sync did, as the summary at the end of a run prints it."""

import dataclasses
from typing import Any, Dict, List


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


def row_counts_of(info: Any) -> Dict[str, int]:
    """Rows per table of a normalize step (dlt's NormalizeInfo), without dlt's own bookkeeping tables."""
    counts = dict(info.row_counts) if info else {}
    return {table: n for table, n in sorted(counts.items()) if not table.startswith("_dlt")}


def print_summary(result: SyncResult, where: str) -> None:
    """What this run loaded: first the rows of an earlier run's packages it finished, then its own."""
    for note in result.notes:
        print(note)
    if result.earlier_rows:
        total = sum(result.earlier_rows.values())
        print(f"loaded {total:,} rows from an earlier run's load package into {where}:")
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
