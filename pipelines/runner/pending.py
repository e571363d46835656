"""Load packages an earlier run extracted but did not load: loaded first and counted, so the summary
says what a run really loaded. dlt retries such a package before anything new, so one that can never
load blocks every run: it is named in one line with the way out (`--drop-pending`: dlt's
`abort_packages` discards it and rewinds the state, so its records are extracted again).
"""

import csv
import gzip
from typing import Any, Dict, List, Optional

from dlt.load.exceptions import LoadClientJobException, LoadClientJobFailed

from sources.http_kit.errors import causes


def load_pending(pipeline: Any) -> Dict[str, int]:
    """Normalize and load what earlier runs left behind (dlt would load it silently); rows per table."""
    if not pipeline.has_pending_data:
        return {}
    pipeline.normalize()  # a package extracted by a run killed before its normalize step
    rows: Dict[str, int] = {}
    for load_id in pipeline.list_normalized_load_packages():
        for table, n in _package_rows(pipeline, load_id).items():
            rows[table] = rows.get(table, 0) + n
    pipeline.load()
    return dict(sorted(rows.items()))


def drop_pending(pipeline: Any) -> List[str]:
    """Discard every pending package and rewind the state to before the oldest; one line per package."""
    pipeline.normalize()
    counts = {load_id: _package_rows(pipeline, load_id) for load_id in pipeline.list_normalized_load_packages()}
    plan = pipeline.abort_packages()
    if plan is None:
        return []
    lines = []
    for load_id, rows in counts.items():
        tables = ", ".join(f"{table} {n:,}" for table, n in rows.items()) or "no rows"
        lines.append(f"discarded load package {load_id} ({tables} rows); its records are extracted again")
    return lines


def describe_job_failure(exc: BaseException) -> Optional[str]:
    """One line for a failed load job: package, job and table, the destination's reason, the way out."""
    err = next((e for e in causes(exc) if isinstance(e, LoadClientJobException) and getattr(e, "job_id", None)), None)
    if err is None:
        return None
    table = err.job_id.split(".", 1)[0]  # job ids are `<table>.<file id>.<format>`
    reason = _reason(err)
    where = f"load package {err.load_id}, job {err.job_id} (table {table!r})"
    if isinstance(err, LoadClientJobFailed):  # terminal: dlt aborted the package and rewound the state
        return (
            f"{where} failed: {reason}. dlt discarded the package and rewound the pipeline state,"
            " so the next run extracts these records again; fix the cause first"
        )
    return (
        f"{where} could not be loaded: {reason}. The package stays in the pipeline folder and every run"
        f" retries it before extracting anything new: fix the cause and run again, or run with --drop-pending"
        " to discard it (its records are extracted again)"
    )


def _reason(err: LoadClientJobException) -> str:
    """The client exception's first line, else the last line of the traceback dlt stored."""
    client = getattr(err, "client_exception", None)
    lines = str(client).strip().splitlines() if client is not None else []
    if not lines:
        lines = [line for line in str(getattr(err, "failed_message", "")).strip().splitlines() if line.strip()][-1:]
    return (lines[0].strip() if lines else type(err).__name__)[:300]


def _package_rows(pipeline: Any, load_id: str) -> Dict[str, int]:
    """Rows per table in one package's jobs not yet completed, counted in their files (dlt keeps no
    row counts once the run that normalized the package has ended)."""
    jobs = pipeline.get_load_package_info(load_id).jobs
    rows: Dict[str, int] = {}
    for job in [*jobs.get("new_jobs", []), *jobs.get("started_jobs", [])]:
        table, file_format = job.job_file_info.table_name, job.job_file_info.file_format
        if not table.startswith("_dlt"):
            rows[table] = rows.get(table, 0) + count_rows(job.file_path, file_format)
    return dict(sorted(rows.items()))


def count_rows(path: str, file_format: str) -> int:
    """Rows in one load job file of the formats this project writes."""
    if file_format == "parquet":
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    with open(path, "rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"  # dlt gzips text job files unless told not to
    with (gzip.open if gzipped else open)(path, "rt", encoding="utf-8", newline="") as f:
        if file_format == "csv":  # a header line; quoted values may hold line breaks
            return max(sum(1 for _ in csv.reader(f)) - 1, 0)
        if file_format == "insert_values":  # one `(…),` line per row; line breaks are escaped
            return sum(1 for line in f if line.startswith("("))
        return sum(1 for line in f if line.strip())  # jsonl
