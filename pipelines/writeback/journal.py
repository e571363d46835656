"""The outcome journal: every row's outcome on local disk, fsync'd, before the run reports anything.

A write-back sends first and loads its outcome table at the end. Without a journal, a load that fails (the
destination down, a lock, a wrong port) or a run that dies mid-way loses the audit rows of requests that
did go out. So each outcome is appended to a JSON-lines file and fsync'd as it is decided; the load at the
end loads the file, and the next run of the same command loads whatever an earlier run left before it
sends anything (`outcomes.py`).

One line per outcome: the record as it lands, with the run's `run_id`. The table is merged on
(`run_id`, `row_number`), and a key written twice keeps its last line, so loading a journal again (a run
killed between the load and the removal of the file) lands no row twice. A last line cut short by a crash
was never reported (its fsync did not return), so it is skipped with a warning; any other line that is
not an outcome stops the next run before it sends anything (`JournalUnreadable`, exit 5).

The file lies beside the results pipeline's working folder, `<results dir>/<pipeline>.journal.jsonl`
(one results dir per destination and dataset: `results.results_dir`): dlt may wipe the working folder
when it restores state from the destination.
"""

import json
import logging
import os
import uuid
from datetime import datetime, timezone
from typing import Any, Dict, List, Mapping, Optional, Tuple

from sources.http_kit import SourceError

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
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
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


class JournalUnreadable(SourceError):
    """A journal line that is not an outcome this command wrote (damaged, edited, another file): its rows
    cannot be loaded, and a run that sent on would leave them behind for good."""

    def __init__(self, path: str, line: int, why: str) -> None:
        super().__init__(
            f"journal {path}: line {line} {why}; fix that line, or move it aside to go on without loading its"
            " outcomes (it is kept as it is)"
        )


def read_journal(path: str, columns: Mapping[str, Mapping[str, Any]]) -> List[Dict[str, Any]]:
    """The outcomes in the file, the last line per key winning; timestamps decoded by the table's columns.

    Absent file: none. A last line without its line break was cut short by a crash (its fsync never
    returned, so it was never reported): skipped with a warning. Any other line that is not an outcome
    with the table's columns raises JournalUnreadable.
    """
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        return []
    lines = data.split(b"\n")
    rows: Dict[Tuple[Any, ...], Dict[str, Any]] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = _outcome(line, columns)
        except ValueError as exc:
            if number == len(lines):  # no line break after it: the write was cut short
                logger.warning(
                    "journal %s: line %d was cut short by a run that ended while writing it; skipped", path, number
                )
                continue
            raise JournalUnreadable(path, number, str(exc)) from None
        rows[tuple(record[k] for k in KEY)] = record
    return list(rows.values())


def _outcome(line: bytes, columns: Mapping[str, Mapping[str, Any]]) -> Dict[str, Any]:
    """One journal line as a record of the table's columns (timestamps decoded), else ValueError saying why."""
    try:
        record = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError:
        raise ValueError("is not UTF-8 text") from None
    except json.JSONDecodeError:
        raise ValueError("is not JSON") from None
    if not isinstance(record, dict):
        raise ValueError("is not a JSON object")
    unknown = sorted(set(record) - set(columns))
    if unknown:
        raise ValueError(f"has fields no outcome has: {', '.join(unknown)[:100]}")
    for name, hint in columns.items():
        value = record.get(name)
        if value is None:
            if name in KEY or hint.get("nullable") is False:
                raise ValueError(f"lacks {name}")
            continue
        kind = hint.get("data_type")
        if kind == "timestamp" and isinstance(value, str):
            try:
                record[name] = datetime.fromisoformat(value)
            except ValueError:
                raise ValueError(f"has {name} {value[:40]!r}, not a timestamp") from None
        elif not _JSON_TYPES.get(kind, lambda v: True)(value):
            raise ValueError(f"has {name} {str(value)[:40]!r}, not of the column's type ({kind})")
    return record


_JSON_TYPES = {
    "text": lambda v: isinstance(v, str),
    "bigint": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "bool": lambda v: isinstance(v, bool),
    "timestamp": lambda v: False,  # only an ISO string (above) is a timestamp
}


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
