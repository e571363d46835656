"""Reads the load summary a sync prints (`  responses      1,234 rows`)."""

from typing import Dict, Iterable

STREAMS = ("end_users", "responses", "declines")


def loaded(stdout: str, tables: Iterable[str] = STREAMS) -> Dict[str, int]:
    """Rows per table from the CLI's summary, for `tables` only (the incremental ones by default)."""
    wanted = set(tables)
    counts: Dict[str, int] = {}
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] in wanted and parts[2] == "rows":
            counts[parts[0]] = int(parts[1].replace(",", ""))
    return counts
