"""The outcome journal: every row's outcome on local disk, fsync'd, before the run reports anything.

A write-back sends first and loads its outcome table at the end. Without a journal, a load that fails (the
destination down, a lock, a wrong port) or a run that dies mid-way loses the audit rows of requests that
did go out. So each outcome is appended to a JSON-lines file and fsync'd as it is decided; the load at the
end loads the file, and the next run of the same command loads whatever an earlier run left before it
sends anything (`outcomes.py`).

One line per outcome: the record as it lands, with the run's `run_id`. The table is merged on
(`run_id`, `row_number`), and a key written twice keeps its last line, so loading a journal again (a run
killed between the load and the removal of the file) lands no row twice. A last line cut short by a crash
was never reported (its fsync did not return), so it is skipped.

The file lies beside the results pipeline's working folder, `<pipelines_dir>/<pipeline>.journal.jsonl`,
like its lock: dlt may wipe the working folder when it restores state from the destination.
"""

import json
import logging
import os
import uuid
from datetime import datetime, timezone
from typing import Any, Dict, List, Mapping, Optional, Tuple

logger = logging.getLogger(__name__)

#: the outcome tables' merge key: one row per input row per run
KEY = ("run_id", "row_number")


def journal_path(pipelines_dir: str, pipeline_name: str) -> str:
    """`<pipelines_dir>/<pipeline_name>.journal.jsonl`: a file, so dlt's pipeline listing (folders) skips it."""
    return os.path.join(pipelines_dir, f"{pipeline_name}.journal.jsonl")


def new_run_id() -> str:
    """Sortable by start time, unique across hosts sharing a dataset."""
    return f"{datetime.now(timezone.utc):%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:8]}"


class Journal:
    """Appends outcomes to the journal file; `write` returns only once the line is on disk."""

    def __init__(self, path: str, run_id: Optional[str] = None) -> None:
        self.path = path
        self.run_id = run_id or new_run_id()
        self.written = 0
        existed = os.path.exists(path)
        self._fd: Optional[int] = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        if not existed:
            _fsync_dir(os.path.dirname(path) or ".")  # the file's name is durable too

    def write(self, record: Mapping[str, Any]) -> None:
        """Append one outcome (stamped with this run's id) and fsync it."""
        if self._fd is None:
            raise ValueError(f"journal {self.path} is closed")
        line = json.dumps({**record, "run_id": self.run_id}, ensure_ascii=False, default=_encode) + "\n"
        data = line.encode("utf-8")
        while data:
            data = data[os.write(self._fd, data) :]
        os.fsync(self._fd)
        self.written += 1

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def remove(self) -> None:
        """The outcomes landed (or there were none): the file goes."""
        self.close()
        remove_journal(self.path)


def remove_journal(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def read_journal(path: str, columns: Mapping[str, Mapping[str, Any]]) -> List[Dict[str, Any]]:
    """The outcomes in the file, the last line per key winning; timestamps decoded by the table's columns.

    Absent file: none. A line that is not JSON is a line cut short by a crash (it was never reported);
    anywhere but at the end it means the file was damaged, which is worth a warning.
    """
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().split("\n")
    except FileNotFoundError:
        return []
    stamps = {name for name, hint in columns.items() if hint.get("data_type") == "timestamp"}
    rows: Dict[Tuple[Any, ...], Dict[str, Any]] = {}
    last = max((i for i, line in enumerate(lines) if line.strip()), default=-1)
    for number, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            if number != last:
                logger.warning("journal %s: line %d is not JSON and was skipped", path, number + 1)
            continue
        for name in stamps & record.keys():
            if isinstance(record[name], str):
                record[name] = datetime.fromisoformat(record[name])
        rows[tuple(record.get(k) for k in KEY)] = record
    return list(rows.values())


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
