"""Load packages an earlier run extracted but did not load: loaded first and counted, so a run's
summary says what it really loaded; one that cannot load is named in one line with its way out.

dlt keeps a package that failed to load (or whose run was killed) in the pipeline folder and retries
it before anything new, so a package that can never load blocks every later run. The one-line
message names the package, its job and table and the destination's own reason, and the way out:
fix the cause, or `--drop-pending`, which discards the package and rewinds the pipeline's state to
before it (dlt's `abort_packages`), so the next extract reads its records again.
"""

import csv
import gzip
import logging
from typing import Any, Dict, List, Optional

from dlt.load.exceptions import LoadClientJobException, LoadClientJobFailed

from sources.http_kit.errors import causes

logger = logging.getLogger(__name__)

#: the option that discards blocked packages (pipelines/runner/options.py)
DROP_PENDING = "--drop-pending"


def load_pending(pipeline: Any, destination: Any = None) -> Dict[str, int]:
    """Normalize and load what earlier runs left behind; rows per table of what was loaded.

    Without this, dlt's `run()` loads the pending packages silently, extracts nothing new and
    reports no rows (after a killed `--full-refresh`, a whole reload printed "nothing new")."""
    if not pipeline.has_pending_data:
        return {}
    pipeline.normalize()  # a package extracted by a run killed before its normalize step
    rows = pending_rows(pipeline)
    pipeline.load(destination=destination)
    return rows


def drop_pending(pipeline: Any) -> List[str]:
    """Discard every pending package and rewind the local state to before the oldest, so this run
    extracts their records again. Returns one line per discarded package."""
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


def pending_rows(pipeline: Any) -> Dict[str, int]:
    """Rows per table in the pending normalized packages, read from their job files."""
    total: Dict[str, int] = {}
    for load_id in pipeline.list_normalized_load_packages():
        for table, n in _package_rows(pipeline, load_id).items():
            total[table] = total.get(table, 0) + n
    return dict(sorted(total.items()))


def describe_job_failure(exc: BaseException) -> Optional[str]:
    """One line for a load job that failed: the package, the job and table, the destination's
    reason (not dlt's traceback, cut at its first line) and how to unblock the pipeline."""
    err = _job_exception(exc)
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
        f" retries it before extracting anything new: fix the cause and run again, or run with {DROP_PENDING}"
        " to discard it (its records are extracted again)"
    )


def _job_exception(exc: BaseException) -> Optional[LoadClientJobException]:
    for err in causes(exc):
        if isinstance(err, LoadClientJobException) and getattr(err, "job_id", None):
            return err
    return None


def _reason(err: LoadClientJobException) -> str:
    """The destination's own message: the client exception's first line, else the last line of
    the traceback text dlt stored."""
    client = getattr(err, "client_exception", None)
    lines = str(client).strip().splitlines() if client is not None else []
    if not lines:
        lines = [line for line in str(getattr(err, "failed_message", "")).strip().splitlines() if line.strip()][-1:]
    return (lines[0].strip() if lines else type(err).__name__)[:300]


def _package_rows(pipeline: Any, load_id: str) -> Dict[str, int]:
    """Rows per table in one package's jobs not yet completed, counted in their files: dlt's package
    info lists the jobs, but keeps no row counts once the run that normalized it has ended."""
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
