"""What a sync did, as the summary at the end of a run prints it."""

import dataclasses
from typing import Any, Dict, List


@dataclasses.dataclass
class SyncResult:
    """What one sync did: the dlt pipeline, rows loaded per table (all accounts), the views made."""

    pipeline: Any
    rows: Dict[str, int] = dataclasses.field(default_factory=dict)
    views: List[str] = dataclasses.field(default_factory=list)


def row_counts(pipeline: Any) -> Dict[str, int]:
    """Rows per table in the last load, without dlt's own bookkeeping tables."""
    trace = pipeline.last_trace
    return row_counts_of(trace.last_normalize_info if trace else None)


def row_counts_of(info: Any) -> Dict[str, int]:
    """Rows per table of a normalize step (dlt's NormalizeInfo), without dlt's own bookkeeping tables."""
    counts = dict(info.row_counts) if info else {}
    return {table: n for table, n in sorted(counts.items()) if not table.startswith("_dlt")}


def print_counts(counts: Dict[str, int], where: str) -> None:
    if not counts:
        print(f"nothing new to load into {where}")
        return
    width = max(len(t) for t in counts)
    print(f"loaded into {where}:")
    for table, n in counts.items():
        print(f"  {table:<{width}}  {n:>9,} rows")
