"""The voicemail import's outcome tables: `voicemails` (one row per submitted voicemail, merged on its
ledger key) and `voicemail_results` (one row per manifest row per run, appended)."""

from datetime import datetime
from typing import Any, Dict, Sequence

from pipelines.writeback.ledger import VOICEMAILS_TABLE, LedgerEntry, instant
from pipelines.writeback.results import Table, column

RESULTS_TABLE = "voicemail_results"
RESULTS_SCHEMA = "woku_voicemails"

#: explicit types, so a column that is NULL in every row of a load still exists with its type
VOICEMAIL_COLUMNS: Dict[str, Dict[str, Any]] = {
    "ledger_key": column("text", False),
    "status": column("text"),
    "route": column("text"),
    "woku_id": column("text"),
    "sha256": column("text"),
    "client": column("text"),
    "manifest_row": column("bigint"),
    "manifest_file": column("text"),
    "qualification": column("bigint"),
    "qualification_id": column("text"),
    "anonymous": column("bool"),
    "transcription": column("text"),
    "feedback_type": column("text"),
    "file_filename": column("text"),
    "file_type": column("text"),
    "file_url": column("text"),
    "client_id": column("text"),
    "review_id": column("text"),
    "attempts": column("bigint"),
    "submitted_at": column("timestamp", timezone=True),
}
RESULT_COLUMNS: Dict[str, Dict[str, Any]] = {
    "run_at": column("timestamp", False, timezone=True),
    "manifest": column("text"),
    "row_number": column("bigint", False),
    "file": column("text"),
    "woku_id": column("text"),
    "ledger_key": column("text"),
    "status": column("text", False),
    "http_status": column("bigint"),
    "message": column("text"),
    "attempts": column("bigint"),
}


def voicemail_record(e: LedgerEntry) -> Dict[str, Any]:
    """A row of `voicemails`: the API's answer (or the review recovered for it) and where it came from."""
    answer = e.answer or {}
    q = answer.get("qualification")
    qualification = q.get("qualification") if isinstance(q, dict) else q
    file = answer.get("file") if isinstance(answer.get("file"), dict) else {}
    return {
        "ledger_key": e.key,
        "status": e.status,
        "route": e.route,
        "woku_id": answer.get("wokuId") or e.woku_id,
        "sha256": e.sha256,
        "client": e.client,
        "manifest_row": e.manifest_row,
        "manifest_file": e.manifest_file,
        "qualification": qualification if qualification is not None else e.qualification,
        "qualification_id": q.get("_id") if isinstance(q, dict) else None,
        "anonymous": answer.get("anonymous", e.anonymous),
        "transcription": answer.get("transcription"),
        "feedback_type": answer.get("feedbackType"),
        "file_filename": file.get("filename"),
        "file_type": file.get("type"),
        "file_url": file.get("url"),
        "client_id": answer.get("clientId"),
        "review_id": e.review_id,
        "attempts": e.attempts,
        "submitted_at": instant(e.ended_at or e.sent_at),
    }


def result_record(o: Any, manifest: str, run_at: datetime) -> Dict[str, Any]:
    return {
        "run_at": run_at,
        "manifest": manifest,
        "row_number": o.row,
        "file": o.file,
        "woku_id": o.woku_id,
        "ledger_key": o.key,
        "status": o.status,
        "http_status": o.http_status,
        "message": o.message,
        "attempts": o.attempts,
    }


def voicemails_table(entries: Sequence[LedgerEntry]) -> Table:
    """Submitted entries not yet in `voicemails` (a run killed before its load left some behind)."""
    return Table(
        VOICEMAILS_TABLE, [voicemail_record(e) for e in entries], VOICEMAIL_COLUMNS, "merge", primary_key="ledger_key"
    )
