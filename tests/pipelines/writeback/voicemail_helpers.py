"""Shared by the voicemail tests: audio, ledger entries and reviews as the API shapes them."""

import struct
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Optional

from pipelines.writeback.ledger import PENDING, LedgerEntry

WOKU = "65348875f3a876254aa82d5e"
OTHER_WOKU = "65348875f3a876254aa82d5f"
T0 = 1_700_000_000.0
SETTLE = 5.0


def wav(seed: int) -> bytes:
    data = struct.pack("<I", seed) * 40
    fmt = struct.pack("<IHHIIHH", 16, 1, 1, 8000, 8000, 1, 8)
    return (
        b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt " + fmt + b"data" + struct.pack("<I", len(data)) + data
    )


def entry(
    key: str = "k1",
    *,
    client: str = "email:ana@example.com",
    anonymous: bool = False,
    qualification: int = 4,
    sent_at: float = T0,
    ended_at: Optional[float] = None,
    status: str = PENDING,
    **kw: Any,
) -> LedgerEntry:
    return LedgerEntry(
        key, WOKU, "ab" * 32, client, anonymous, qualification, status=status, sent_at=sent_at, ended_at=ended_at, **kw
    )


def review(rid: str, at: float, *, client: str = "c-ana", qualification: int = 4, **kw: Any) -> Dict[str, Any]:
    created = datetime.fromtimestamp(at, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "_id": rid,
        "wokuId": WOKU,
        "type": "voice",
        "qualification": qualification,
        "clientId": client,
        "anonymous": False,
        "file": {"url": f"https://files/{rid}"},
        "createdAt": created,
        **kw,
    }


class MemoryLedger:
    """A ledger in a dict, keeping its own copies, and every save in order."""

    def __init__(self, entries: Iterable[LedgerEntry] = ()) -> None:
        self.entries: Dict[str, LedgerEntry] = {e.key: replace(e) for e in entries}
        self.saves: List[LedgerEntry] = []

    def load(self) -> Dict[str, LedgerEntry]:
        return {k: replace(e) for k, e in self.entries.items()}

    def save(self, entry: LedgerEntry) -> None:
        self.entries[entry.key] = replace(entry)
        self.saves.append(replace(entry))
