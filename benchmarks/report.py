"""The benchmark's results: one Result per run, rendered as a markdown table, or as JSON."""

import json
import platform
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional

import psutil


@dataclass
class Result:
    workload: str
    connector: str
    held: int = 0
    landed: int = 0
    missing: int = 0
    duplicated: int = 0
    requests: int = 0
    token_requests: int = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_rss_mb: float = 0.0
    http_429: int = 0
    exit_code: int = 0
    utilization: Optional[float] = None
    notes: str = ""
    per_stream: Dict[str, Dict[str, int]] = field(default_factory=dict)

    @property
    def requests_per_1000(self) -> float:
        return 1000 * (self.requests + self.token_requests) / self.held if self.held else 0.0

    @property
    def records_per_s(self) -> float:
        return self.landed / self.wall_s if self.wall_s else 0.0


def render(results: List[Result]) -> str:
    head = (
        "| workload | connector | held | landed | missing | dup | requests | req/1k | wall s | rec/s "
        "| CPU s | peak RSS MB | 429s | util | exit |"
    )
    rows = [head, "|" + "---|" * 15]
    for r in results:
        util = f"{r.utilization:.3f}" if r.utilization is not None else ""
        rows.append(
            f"| {r.workload} | {r.connector} | {r.held:,} | {r.landed:,} | {r.missing:,} | {r.duplicated:,} "
            f"| {r.requests + r.token_requests:,} | {r.requests_per_1000:.2f} | {r.wall_s:.1f} "
            f"| {r.records_per_s:,.0f} "
            f"| {r.cpu_s:.1f} | {r.peak_rss_mb:.0f} | {r.http_429} | {util} | {r.exit_code} |"
        )
    notes = [f"- {r.workload} / {r.connector}: {r.notes}" for r in results if r.notes]
    return "\n".join(rows + ([""] + notes if notes else []))


def machine() -> str:
    return (
        f"{platform.machine()}, {psutil.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, "
        f"Python {platform.python_version()}, {platform.system()}"
    )


def results_json(results: List[Result]) -> str:
    """The results as JSON, with the machine they ran on (``--json``)."""
    return json.dumps({"machine": machine(), "results": [asdict(r) for r in results]}, indent=2)
