"""Voicemail import: check manifest rows, then submit each voicemail to Woku at most once.

Pure logic over a WokuClient and a `Ledger` (an interface: the pipeline keeps it in the destination), without
dlt, so every rule is testable without a warehouse or a server.

Manifest rows (`file,wokuId,qualification,clientEmail,clientPhone,anonymous`; `file` relative to the manifest):
- `wokuId` a 24-hex ObjectId (sent lower-cased); `qualification` an integer 1-5 written in digits ("4.5", "0"
  and "6" fail); `anonymous` true, false or empty (= false), in any case; `clientEmail` required unless
  `anonymous` is true, and shaped like an email (the API answers 400 otherwise).
- `file` exists, holds 1 to MAX_AUDIO_BYTES bytes (25,000,000: the API's "25 MB" read as decimal megabytes,
  so no file we send can get its 413 whichever way it counts), has an audio extension AND starts with the
  magic bytes of that same format (a text file named .wav, or an .mp3 that holds WAV, fails). It is sent
  with that format's `audio/*` part type, which the API accepts without sniffing.

Ledger key: `wokuId:sha256(file):client`, client `email:<lower-cased email>` or `anonymous`. The email is
mandatory unless the row is anonymous, and the API keeps no contact data on anonymous reviews, so a phone
never decides who the client is. Two manifest rows with one key are one voicemail: the later is a duplicate.

The POST has no idempotency key, so the client sends it with `idempotent=False` (never retried once it may
have reached the server), and every send goes through the ledger:
1. the entry is saved `pending`, with the send time, BEFORE the POST (`Ledger.save` is durable on return);
2. after it: `accepted` (201; the answer is kept), `rejected` (4xx: not created), `not_created` (401);
3. otherwise the answer was lost (timeout, reset, 5xx, unreadable body, or the run died): the entry stays
   `pending` and is never sent again before the lost-answer rule has looked for it.

The lost-answer rule, for a `pending` entry (this run's, or one an earlier run left behind):
- Wait until it has settled: `settle` seconds (the client's read timeout) after the POST failed, or after
  it was sent when the run died. A server still working on it would otherwise create it after we looked.
- Read the woku's reviews (GET /v1/wokus/{id}/reviews, newest first) back to `sent_at - skew`.
- A candidate is a voice review of that woku with the row's qualification and anonymity (and, on the v1
  route, language), created within [sent_at - skew, settled + skew], whose file url and id no other ledger
  entry has claimed, and whose client fits:
  * a non-anonymous row whose email has a clientId from an earlier accepted (or recovered) answer: that
    clientId exactly. A match is `recovered`; the client is proven.
  * otherwise (the email's first voicemail, or an anonymous row, whose client is new each time): any client
    not known to be another email's. A match is `uncertain`: Woku very probably holds it, unprovably.
- Lost entries that compete for the same reviews get one review each (maximum matching). If a group of
  them has fewer reviews than entries, nobody can tell which were created: the whole group is `ambiguous`.
- No candidate at all: it was not created -> `not_created`, and it may be sent again: once more in the same
  run, else in the next (each send again saved `pending` first, each loss again checked).
`recovered` and `uncertain` count as submitted and are never sent again; `ambiguous` is never sent again
automatically and is reported on every run until someone decides (set the ledger row's status to
`accepted`, or delete it to send again). A duplicate cannot be undone through the API (it has no review
delete), a missing voicemail can still be sent once a person has checked: the rule errs towards not sending.
It assumes the server finishes a request within `settle` of receiving it and that clocks agree within `skew`.
"""

import csv
import hashlib
import logging
import os
import re
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Protocol, Sequence, Set, Tuple, Union

from sources.http_kit import ApiError, AuthError, ConfigError, SourceError
from sources.http_kit.redact import one_line
from sources.woku.helpers.records import parse_timestamp
from sources.woku.settings import OBJECT_ID

logger = logging.getLogger(__name__)

Record = Dict[str, Any]

MANIFEST_COLUMNS = ("file", "wokuId", "qualification", "clientEmail", "clientPhone", "anonymous")
#: the API's 25 MB as decimal megabytes: stricter than 25 MiB, so a file we accept never gets a 413
MAX_AUDIO_BYTES = 25_000_000
CLASSIC_PATH = "/wokus/create-voicemail"
V1_PATH = "/v1/wokus/{woku_id}/voicemails"
REVIEWS_PATH = "/v1/wokus/{woku_id}/reviews"
LANGUAGES = ("es", "en")
#: how far our clock and the API's may disagree when comparing a send time with a review's createdAt
DEFAULT_SKEW_SECONDS = 60.0
#: after this many lost answers in a row the API is down: the remaining rows are not sent
MAX_CONSECUTIVE_LOST = 5

# ledger statuses
PENDING = "pending"
ACCEPTED = "accepted"
RECOVERED = "recovered"
UNCERTAIN = "uncertain"
AMBIGUOUS = "ambiguous"
NOT_CREATED = "not_created"
REJECTED = "rejected"
#: Woku holds the voicemail (proven, or as good as): never sent again
SUBMITTED = (ACCEPTED, RECOVERED, UNCERTAIN)
# outcome statuses of a manifest row in one run, besides the ledger's
SKIPPED = "skipped"
DUPLICATE = "duplicate"
INVALID = "invalid"
FAILED = "failed"
#: outcomes that leave the row imported; anything else makes the run's exit status non-zero
IMPORTED = (*SUBMITTED, SKIPPED)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DIGITS = re.compile(r"^[0-9]+$")


# ---------------------------------------------------------------------------------------------- audio
@dataclass(frozen=True)
class AudioFormat:
    name: str
    mime: str


_FORMATS: Dict[str, AudioFormat] = {
    "wav": AudioFormat("WAV", "audio/wav"),
    "mp3": AudioFormat("MP3", "audio/mpeg"),
    "aac": AudioFormat("AAC", "audio/aac"),
    "ogg": AudioFormat("Ogg", "audio/ogg"),
    "flac": AudioFormat("FLAC", "audio/flac"),
    "webm": AudioFormat("WebM", "audio/webm"),
    "m4a": AudioFormat("M4A", "audio/mp4"),
    "amr": AudioFormat("AMR", "audio/amr"),
}
#: file extension -> format; the content must carry that format's magic bytes
AUDIO_EXTENSIONS: Dict[str, str] = {
    ".wav": "wav",
    ".wave": "wav",
    ".mp3": "mp3",
    ".aac": "aac",
    ".ogg": "ogg",
    ".oga": "ogg",
    ".opus": "ogg",
    ".flac": "flac",
    ".webm": "webm",
    ".weba": "webm",
    ".m4a": "m4a",
    ".amr": "amr",
}


def sniff_audio(head: bytes) -> Optional[str]:
    """The audio format whose magic bytes start `head` (at least 12 bytes), or None."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:3] == b"ID3":
        return "mp3"
    if len(head) > 1 and head[0] == 0xFF:
        if head[1] & 0xF6 == 0xF0:  # ADTS: 12-bit sync, layer 00
            return "aac"
        if head[1] & 0xE0 == 0xE0 and head[1] & 0x06:  # MPEG audio frame sync, layer I-III
            return "mp3"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"\x1aE\xdf\xa3":
        return "webm"
    if head[4:8] == b"ftyp":
        return "m4a"
    if head[:6] == b"#!AMR\n":
        return "amr"
    return None


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# ------------------------------------------------------------------------------------------- manifest
@dataclass(frozen=True)
class Voicemail:
    """A manifest row that passed every check: what will be sent, and its ledger key."""

    row: int
    file: str
    path: str
    woku_id: str
    qualification: int
    email: Optional[str]
    phone: Optional[str]
    anonymous: bool
    sha256: str
    size: int
    mime: str

    @property
    def client(self) -> str:
        return "anonymous" if self.anonymous else f"email:{(self.email or '').lower()}"

    @property
    def key(self) -> str:
        return ledger_key(self.woku_id, self.sha256, self.client)


@dataclass(frozen=True)
class Invalid:
    """A manifest row that failed a check; `reason` names every problem at once."""

    row: int
    file: str
    woku_id: Optional[str]
    reason: str


Checked = Union[Voicemail, Invalid]


def ledger_key(woku_id: str, sha256: str, client: str) -> str:
    return f"{woku_id}:{sha256}:{client}"


def read_manifest(path: str) -> List[Checked]:
    """Every row of the manifest, checked; a missing file or a wrong header is a ConfigError.

    Rows count from 1 (the first row after the header); fully blank lines are skipped.
    """
    label = f"--manifest {path}"
    base = os.path.dirname(os.path.abspath(path))
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                raise ConfigError(f"{label} is empty; expected the header {','.join(MANIFEST_COLUMNS)}")
            canonical = {c.lower(): c for c in MANIFEST_COLUMNS}
            names = [canonical.get(h.strip().lower(), h.strip()) for h in header]
            if sorted(names) != sorted(MANIFEST_COLUMNS):
                raise ConfigError(
                    f"{label}: the header is {','.join(h.strip() for h in header)[:200]!r};"
                    f" expected exactly {','.join(MANIFEST_COLUMNS)}"
                )
            rows: List[Checked] = []
            for fields in reader:
                if not any(f.strip() for f in fields):
                    continue
                problems = []
                if len(fields) != len(names):
                    problems.append(f"the row has {len(fields)} fields, expected {len(names)}")
                raw = dict(zip(names, fields, strict=False))
                rows.append(validate_row(len(rows) + 1, raw, base, problems))
            return rows
    except FileNotFoundError:
        raise ConfigError(f"{label}: no such file") from None
    except IsADirectoryError:
        raise ConfigError(f"{label} is a directory, not a CSV file") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{label} is not UTF-8 text") from None
    except csv.Error as exc:
        raise ConfigError(f"{label} is not valid CSV: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{label} cannot be read: {exc.strerror or type(exc).__name__}") from None


def validate_row(
    row: int,
    raw: Mapping[str, Optional[str]],
    base_dir: str,
    problems: Sequence[str] = (),
    max_bytes: int = MAX_AUDIO_BYTES,
) -> Checked:
    """A Voicemail, or an Invalid that lists every problem of the row (the file is read only when present)."""
    found = list(problems)
    text = {c: (raw.get(c) or "").strip() for c in MANIFEST_COLUMNS}

    woku_id = text["wokuId"].lower()
    if not woku_id:
        found.append("wokuId is missing")
    elif not OBJECT_ID.fullmatch(woku_id):
        found.append(f"wokuId {_show(text['wokuId'])} is not a 24-hex ObjectId")

    qualification = 0
    if not text["qualification"]:
        found.append("qualification is missing")
    elif not _DIGITS.fullmatch(text["qualification"]) or not 1 <= int(text["qualification"]) <= 5:
        found.append(f"qualification {_show(text['qualification'])} is not an integer from 1 to 5")
    else:
        qualification = int(text["qualification"])

    anonymous = False
    flag = text["anonymous"].lower()
    if flag in ("true", "false", ""):
        anonymous = flag == "true"
    else:
        found.append(f"anonymous {_show(text['anonymous'])} is not true, false or empty")

    email = text["clientEmail"] or None
    if email is None and not anonymous and flag in ("false", ""):
        found.append("clientEmail is required unless anonymous is true")
    elif email is not None and not _EMAIL.fullmatch(email):
        found.append(f"clientEmail {_show(email)} is not an email address")

    audio: Optional[Tuple[str, int, str, str]] = None
    if not text["file"]:
        found.append("file is missing")
    else:
        audio = _check_audio(os.path.join(base_dir, text["file"]), text["file"], found, max_bytes)

    if found or audio is None:
        return Invalid(row, text["file"], woku_id or None, "; ".join(found))
    path, size, mime, sha = audio
    return Voicemail(
        row, text["file"], path, woku_id, qualification, email, text["clientPhone"] or None, anonymous, sha, size, mime
    )


def _check_audio(path: str, name: str, found: List[str], max_bytes: int) -> Optional[Tuple[str, int, str, str]]:
    """(path, size, mime, sha256) of an audio file, or None with the problem appended."""
    if not os.path.exists(path):
        found.append(f"file {_show(name)} does not exist")
        return None
    if not os.path.isfile(path):
        found.append(f"file {_show(name)} is not a regular file")
        return None
    size = os.path.getsize(path)
    if size == 0:
        found.append(f"file {_show(name)} is empty")
        return None
    if size > max_bytes:
        found.append(f"file {_show(name)} is {size:,} bytes; the limit is {max_bytes:,}")
        return None
    ext = os.path.splitext(name)[1].lower()
    expected = AUDIO_EXTENSIONS.get(ext)
    if expected is None:
        found.append(f"file {_show(name)} is not audio: extension {ext or '(none)'!r} is not one of {_extensions()}")
        return None
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
        sha = file_sha256(path)
    except OSError as exc:
        found.append(f"file {_show(name)} cannot be read: {exc.strerror or type(exc).__name__}")
        return None
    actual = sniff_audio(head)
    if actual != expected:
        what = f"{_FORMATS[actual].name} audio" if actual else "not audio"
        found.append(f"file {_show(name)} is not {_FORMATS[expected].name} audio (its content is {what})")
        return None
    return path, size, _FORMATS[expected].mime, sha


def _extensions() -> str:
    return " ".join(sorted(AUDIO_EXTENSIONS))


def _show(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


# --------------------------------------------------------------------------------------------- ledger
@dataclass
class LedgerEntry:
    """What we know of one voicemail (one key) on Woku: the latest send and its outcome."""

    key: str
    woku_id: str
    sha256: str
    client: str
    anonymous: bool
    qualification: int
    status: str = PENDING
    attempts: int = 0
    #: epoch seconds on our clock, just before the latest POST
    sent_at: Optional[float] = None
    #: when that POST ended (answer or failure); None while in flight, or when the run died
    ended_at: Optional[float] = None
    route: Optional[str] = None
    language: Optional[str] = None
    http_status: Optional[int] = None
    message: Optional[str] = None
    client_id: Optional[str] = None
    file_url: Optional[str] = None
    review_id: Optional[str] = None
    #: the API's answer (accepted) or the review found for it (recovered, uncertain)
    answer: Optional[Record] = None
    manifest_row: Optional[int] = None
    manifest_file: Optional[str] = None
    updated_at: Optional[float] = None

    def settled_at(self, settle: float) -> float:
        """When the server has surely finished with the latest POST (see the lost-answer rule)."""
        return (self.ended_at or self.sent_at or 0.0) + settle

    def claims(self) -> Set[str]:
        """The review this entry stands for, as identities no other entry may match."""
        if self.status not in SUBMITTED:
            return set()
        return {i for i in (_url_id(self.file_url), _review_id(self.review_id)) if i}


class Ledger(Protocol):
    """Where entries live between runs; `save` must be durable when it returns."""

    def load(self) -> Dict[str, LedgerEntry]: ...

    def save(self, entry: LedgerEntry) -> None: ...


class MemoryLedger:
    """A ledger in a dict: for tests and dry runs."""

    def __init__(self, entries: Iterable[LedgerEntry] = ()) -> None:
        self.entries: Dict[str, LedgerEntry] = {e.key: replace(e) for e in entries}
        self.saves: List[LedgerEntry] = []

    def load(self) -> Dict[str, LedgerEntry]:
        return {k: replace(e) for k, e in self.entries.items()}

    def save(self, entry: LedgerEntry) -> None:
        self.entries[entry.key] = replace(entry)
        self.saves.append(replace(entry))


def _url_id(url: Optional[str]) -> Optional[str]:
    return f"url:{url}" if url else None


def _review_id(rid: Optional[str]) -> Optional[str]:
    return f"id:{rid}" if rid else None


def review_identities(review: Mapping[str, Any]) -> Set[str]:
    file = review.get("file") if isinstance(review.get("file"), dict) else {}
    return {i for i in (_url_id(file.get("url")), _review_id(review.get("_id"))) if i}


def known_clients(entries: Iterable[LedgerEntry]) -> Dict[str, str]:
    """client key (`email:...`) -> clientId, from answers that prove it (never from an uncertain match)."""
    return {
        e.client: e.client_id for e in entries if e.status in (ACCEPTED, RECOVERED) and not e.anonymous and e.client_id
    }


# ------------------------------------------------------------------------------------ lost-answer rule
@dataclass(frozen=True)
class Match:
    """What the lost-answer rule concluded for one pending entry."""

    status: str
    review: Optional[Record] = None
    reason: str = ""


def match_lost(
    entries: Sequence[LedgerEntry],
    reviews_by_woku: Mapping[str, Sequence[Record]],
    known: Mapping[str, str],
    claimed: Set[str],
    *,
    settle: float,
    skew: float = DEFAULT_SKEW_SECONDS,
) -> Dict[str, Match]:
    """The lost-answer rule (module docstring) for pending entries, given their wokus' reviews."""
    known_ids = set(known.values())
    candidates: Dict[str, List[Record]] = {}
    proven: Dict[str, bool] = {}
    for e in entries:
        client_id = None if e.anonymous else known.get(e.client)
        proven[e.key] = client_id is not None
        lo = (e.sent_at or 0.0) - skew
        hi = e.settled_at(settle) + skew
        found = []
        for r in reviews_by_woku.get(e.woku_id, ()):
            created = _epoch(r.get("createdAt"))
            if created is None or not lo <= created <= hi or review_identities(r) & claimed:
                continue
            if r.get("type", "voice") != "voice" or _qualification(r) != e.qualification:
                continue
            if "anonymous" in r and bool(r["anonymous"]) != e.anonymous:
                continue
            if e.language and r.get("language") not in (None, e.language):
                continue
            if client_id is not None and r.get("clientId") != client_id:
                continue
            if client_id is None and r.get("clientId") in known_ids:
                continue  # another email's proven client: not ours
            found.append((created, r))
        candidates[e.key] = [r for _, r in sorted(found, key=lambda x: x[0])]

    order = sorted(entries, key=lambda e: (e.sent_at or 0.0, e.key))
    ids = {e.key: [_identity(r) for r in candidates[e.key]] for e in order}
    assigned = _maximum_matching([e.key for e in order], ids)
    by_id = {_identity(r): r for rs in candidates.values() for r in rs}
    result: Dict[str, Match] = {}
    for group in _components([e.key for e in order], ids):
        reviews = {i for k in group for i in ids[k]}
        if not reviews:
            for k in group:
                result[k] = Match(NOT_CREATED, reason="not among the woku's reviews: not created")
            continue
        if all(k in assigned for k in group):
            for k in group:
                status = RECOVERED if proven[k] else UNCERTAIN
                how = "the client's id" if proven[k] else "woku, qualification and time (client unprovable)"
                result[k] = Match(status, by_id[assigned[k]], f"answer lost; found among the woku's reviews by {how}")
            continue
        for k in group:
            result[k] = Match(
                AMBIGUOUS,
                reason=f"{len(group)} lost answers match only {len(reviews)} review(s): cannot tell which were"
                " created; not sent again (set status accepted, or delete the ledger row to send it)",
            )
    return result


def _identity(review: Mapping[str, Any]) -> str:
    ids = sorted(review_identities(review))
    return ids[0] if ids else f"obj:{id(review)}"


def _maximum_matching(keys: Sequence[str], edges: Mapping[str, Sequence[str]]) -> Dict[str, str]:
    """Entry -> review, as many entries matched as possible (augmenting paths, earlier entries first)."""
    owner: Dict[str, str] = {}

    def augment(key: str, seen: Set[str]) -> bool:
        # a free review first (the earliest), so entries sent in order keep reviews created in order
        for rid in edges[key]:
            if rid not in owner and rid not in seen:
                seen.add(rid)
                owner[rid] = key
                return True
        for rid in edges[key]:
            if rid in seen:
                continue
            seen.add(rid)
            if augment(owner[rid], seen):
                owner[rid] = key
                return True
        return False

    for key in keys:
        augment(key, set())
    return {key: rid for rid, key in owner.items()}


def _components(keys: Sequence[str], edges: Mapping[str, Sequence[str]]) -> List[List[str]]:
    """Entries grouped when they share a candidate review, transitively."""
    parent = {k: k for k in keys}

    def root(k: str) -> str:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    first_holder: Dict[str, str] = {}
    for k in keys:
        for rid in edges[k]:
            if rid in first_holder:
                parent[root(k)] = root(first_holder[rid])
            else:
                first_holder[rid] = k
    groups: Dict[str, List[str]] = {}
    for k in keys:
        groups.setdefault(root(k), []).append(k)
    return list(groups.values())


def _epoch(value: Any) -> Optional[float]:
    try:
        parsed = parse_timestamp(value)
    except (TypeError, ValueError):
        return None
    return parsed.timestamp() if parsed is not None else None


def _qualification(review: Mapping[str, Any]) -> Optional[int]:
    q = review.get("qualification")
    if isinstance(q, dict):
        q = q.get("qualification")
    try:
        return int(q) if q is not None and not isinstance(q, bool) else None
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------------------------------------- import
@dataclass
class Outcome:
    """What became of one manifest row in this run (a row of `voicemail_results`)."""

    row: int
    file: str
    woku_id: Optional[str]
    key: Optional[str]
    status: str
    http_status: Optional[int] = None
    message: Optional[str] = None
    attempts: int = 0


@dataclass
class ImportReport:
    outcomes: List[Outcome]
    posts: int = 0
    #: what the lost-answer rule decided for entries earlier runs left pending
    earlier: Dict[str, int] = field(default_factory=dict)
    stopped: Optional[str] = None
    #: the API rejected the key mid-run: the outcomes are complete, but the run must end in this error
    aborted: Optional[SourceError] = None

    def counts(self) -> Dict[str, int]:
        counts: Dict[str, int] = {}
        for o in self.outcomes:
            counts[o.status] = counts.get(o.status, 0) + 1
        return counts

    def all_imported(self) -> bool:
        """Every row ended imported now or earlier (a duplicate counts as its first row)."""
        by_key = {o.key: o for o in self.outcomes if o.key and o.status != DUPLICATE}
        for o in self.outcomes:
            first = by_key.get(o.key) if o.status == DUPLICATE else o
            if first is None or first.status not in IMPORTED:
                return False
        return True


def submit(client: Any, vm: Voicemail, content: bytes, *, v1: bool, language: str) -> Any:
    """One multipart POST, never retried once it may have reached the server."""
    fields: Dict[str, str] = {"qualification": str(vm.qualification)}
    if vm.email:
        fields["clientEmail"] = vm.email
    if vm.phone:
        fields["clientPhone"] = vm.phone
    fields["anonymous"] = "true" if vm.anonymous else "false"
    if v1:
        path = V1_PATH.format(woku_id=vm.woku_id)
        fields["language"] = language
    else:
        path = CLASSIC_PATH
        fields = {"wokuId": vm.woku_id, **fields}
    files = {"file": (os.path.basename(vm.path), content, vm.mime)}
    return client.post(path, data=fields, files=files, idempotent=False)


class VoicemailImporter:
    """Sends checked rows one at a time in manifest order, through the ledger (module docstring)."""

    def __init__(
        self,
        client: Any,
        ledger: Ledger,
        *,
        v1: bool = False,
        language: str = "es",
        settle: float = 60.0,
        skew: float = DEFAULT_SKEW_SECONDS,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        max_consecutive_lost: int = MAX_CONSECUTIVE_LOST,
    ) -> None:
        self.client = client
        self.ledger = ledger
        self.v1 = v1
        self.language = language
        self.settle = settle
        self.skew = skew
        self._clock = clock
        self._sleep = sleep
        self.max_consecutive_lost = max_consecutive_lost
        self.entries: Dict[str, LedgerEntry] = {}
        self.posts = 0

    # ---------------------------------------------------------------- the run
    def run(self, items: Sequence[Checked]) -> ImportReport:
        self.entries = self.ledger.load()
        report = ImportReport(outcomes=[])
        earlier = [e for e in self.entries.values() if e.status == PENDING]
        resolved_now: Set[str] = set()
        if earlier:
            logger.warning(
                "%d voicemail(s) from an interrupted run: checking their wokus' reviews before any re-send",
                len(earlier),
            )
            for e in self.resolve(earlier):
                report.earlier[e.status] = report.earlier.get(e.status, 0) + 1
                resolved_now.add(e.key)

        outcomes: List[Optional[Outcome]] = []
        first_row: Dict[str, Voicemail] = {}
        lost: List[Tuple[int, Voicemail]] = []
        consecutive, answered = 0, False
        for item in items:
            outcomes.append(None)
            index = len(outcomes) - 1
            if isinstance(item, Invalid):
                outcomes[index] = Outcome(item.row, item.file, item.woku_id, None, INVALID, None, item.reason)
                continue
            if item.key in first_row:
                same = first_row[item.key].row
                outcomes[index] = self._outcome(item, DUPLICATE, f"same woku, file and client as row {same}: not sent")
                continue
            first_row[item.key] = item
            entry = self.entries.get(item.key)
            if entry is not None and entry.status in SUBMITTED and item.key in resolved_now:
                # an interrupted run's send, found among the reviews just now
                outcomes[index] = self._outcome(item, entry.status, entry.message, entry.http_status)
                continue
            if entry is not None and entry.status in SUBMITTED:
                outcomes[index] = self._outcome(item, SKIPPED, f"already {entry.status} in an earlier run")
                continue
            if entry is not None and entry.status in (AMBIGUOUS, PENDING):
                status = AMBIGUOUS if entry.status == AMBIGUOUS else FAILED
                outcomes[index] = self._outcome(item, status, f"not sent: {entry.message or 'unresolved earlier send'}")
                continue
            if report.aborted is not None or report.stopped is not None:
                why = report.stopped or f"the API rejected the key: {report.aborted}"
                outcomes[index] = self._outcome(item, FAILED, f"not sent: {why}")
                continue
            try:
                outcome = self.send(item)
            except AuthError as exc:
                if not answered:
                    raise  # a bad key from the start: one error line, nothing to record
                report.aborted = exc
                outcome = self._outcome(item, FAILED, one_line(str(exc)), 401)
            answered = answered or (outcome is not None and outcome.status in (ACCEPTED, REJECTED))
            if outcome is None:
                lost.append((index, item))
                consecutive += 1
                if consecutive >= self.max_consecutive_lost:
                    report.stopped = f"{consecutive} answers in a row were lost (the API looks unavailable)"
                continue
            consecutive = 0
            outcomes[index] = outcome

        for round_ in (1, 2):
            if not lost:
                break
            self.resolve([self.entries[vm.key] for _, vm in lost])
            again: List[Tuple[int, Voicemail]] = []
            for index, vm in lost:
                entry = self.entries[vm.key]
                if entry.status == NOT_CREATED and round_ == 1 and report.stopped is None and report.aborted is None:
                    try:
                        outcome = self.send(vm)
                    except AuthError as exc:
                        report.aborted = exc
                        outcome = self._outcome(vm, FAILED, one_line(str(exc)), 401)
                    if outcome is None:
                        again.append((index, vm))
                        continue
                    outcomes[index] = outcome
                    continue
                outcomes[index] = self._settled_outcome(vm, entry)
            lost = again
        for index, vm in lost:
            outcomes[index] = self._settled_outcome(vm, self.entries[vm.key])

        report.outcomes = [o for o in outcomes if o is not None]
        report.posts = self.posts
        return report

    # ---------------------------------------------------------------- one send
    def send(self, vm: Voicemail) -> Optional[Outcome]:
        """POST one row: its Outcome, or None when the answer was lost (the entry stays pending)."""
        try:
            with open(vm.path, "rb") as fh:
                content = fh.read()
        except OSError as exc:
            return self._outcome(vm, INVALID, f"file {vm.file!r} cannot be read: {exc.strerror or type(exc).__name__}")
        if hashlib.sha256(content).hexdigest() != vm.sha256:
            return self._outcome(vm, INVALID, f"file {vm.file!r} changed since it was checked: not sent")

        entry = self.entries.get(vm.key) or LedgerEntry(
            vm.key, vm.woku_id, vm.sha256, vm.client, vm.anonymous, vm.qualification
        )
        entry.status, entry.attempts = PENDING, entry.attempts + 1
        entry.sent_at, entry.ended_at = self._clock(), None
        entry.http_status = entry.message = None
        entry.route = "v1" if self.v1 else "classic"
        entry.language = self.language if self.v1 else None
        entry.manifest_row, entry.manifest_file = vm.row, vm.file
        self._save(entry)  # durable before the POST: a run that dies from here on leaves a trace
        self.posts += 1
        try:
            answer = submit(self.client, vm, content, v1=self.v1, language=self.language)
        except AuthError:
            entry.status, entry.http_status, entry.ended_at = NOT_CREATED, 401, self._clock()
            entry.message = "the API rejected the key (401): not created"
            self._save(entry)
            raise
        except ApiError as exc:
            entry.ended_at = self._clock()
            entry.http_status = exc.status
            if exc.status is not None and 400 <= exc.status < 500:
                entry.status = REJECTED
                entry.message = self._describe(exc)
                self._save(entry)
                return self._outcome(vm, REJECTED, entry.message, exc.status, entry.attempts)
            # a 5xx, a reset, a timeout, a bad body: the server may have created it
            entry.message = f"answer lost: {self._describe(exc)}; checked against the woku's reviews before any re-send"
            self._save(entry)
            logger.warning("row %d: %s", vm.row, entry.message)
            return None
        entry.status, entry.ended_at = ACCEPTED, self._clock()
        entry.answer = answer if isinstance(answer, dict) else {}
        entry.client_id = _text(entry.answer.get("clientId"))
        file = entry.answer.get("file") if isinstance(entry.answer.get("file"), dict) else {}
        entry.file_url = _text(file.get("url"))
        entry.message = None if entry.answer else "the API answered 2xx without a body"
        self._save(entry)
        return self._outcome(vm, ACCEPTED, None, 201, entry.attempts)

    # ---------------------------------------------------------------- the lost-answer rule
    def resolve(self, pending: Sequence[LedgerEntry]) -> List[LedgerEntry]:
        """Apply the lost-answer rule to pending entries; those whose reviews cannot be read stay pending."""
        pending = [e for e in pending if e.status == PENDING]
        if not pending:
            return []
        wait = max(e.settled_at(self.settle) for e in pending) - self._clock()
        if wait > 0:
            logger.warning("waiting %.1fs for %d unanswered POST(s) to settle before checking", wait, len(pending))
            self._sleep(wait)
        reviews: Dict[str, List[Record]] = {}
        readable: List[LedgerEntry] = []
        for woku_id in sorted({e.woku_id for e in pending}):
            group = [e for e in pending if e.woku_id == woku_id]
            floor = min((e.sent_at or 0.0) for e in group) - self.skew
            try:
                reviews[woku_id] = self._reviews(woku_id, floor)
                readable.extend(group)
            except AuthError:
                raise
            except ApiError as exc:
                for e in group:
                    if exc.status == 404:  # the woku is gone, and every review with it
                        e.status, e.message = NOT_CREATED, "the woku no longer exists: not created"
                    else:
                        e.message = f"answer lost; its woku's reviews could not be read ({self._describe(exc)})"
                    self._save(e)
        claimed: Set[str] = set()
        for e in self.entries.values():
            claimed |= e.claims()
        matches = match_lost(
            readable,
            reviews,
            known_clients(self.entries.values()),
            claimed,
            settle=self.settle,
            skew=self.skew,
        )
        for e in readable:
            m = matches[e.key]
            e.status, e.message = m.status, m.reason
            if m.review is not None:
                file = m.review.get("file") if isinstance(m.review.get("file"), dict) else {}
                e.answer = dict(m.review)
                e.review_id = _text(m.review.get("_id"))
                e.file_url = _text(file.get("url"))
                e.client_id = _text(m.review.get("clientId"))
            self._save(e)
        return pending

    def _reviews(self, woku_id: str, floor: float) -> List[Record]:
        """The woku's reviews created at or after `floor` (newest first, older pages not read)."""
        since = datetime.fromtimestamp(floor, timezone.utc)
        seen: Dict[str, Record] = {}
        for page in self.client.pages_since(REVIEWS_PATH.format(woku_id=woku_id), since):
            for r in page:
                if isinstance(r, dict):
                    seen.setdefault(str(r.get("_id") or id(r)), r)
        return list(seen.values())

    # ---------------------------------------------------------------- helpers
    def _save(self, entry: LedgerEntry) -> None:
        entry.updated_at = self._clock()
        self.ledger.save(entry)
        self.entries[entry.key] = entry

    def _settled_outcome(self, vm: Voicemail, entry: LedgerEntry) -> Outcome:
        if entry.status in SUBMITTED or entry.status == AMBIGUOUS:
            return self._outcome(vm, entry.status, entry.message, entry.http_status, entry.attempts)
        if entry.status == NOT_CREATED:
            why = "answer lost again; checked: not created" if entry.attempts > 1 else entry.message
            return self._outcome(vm, FAILED, f"{why}; will be sent by the next run", entry.http_status, entry.attempts)
        return self._outcome(vm, FAILED, entry.message, entry.http_status, entry.attempts)

    def _outcome(
        self, vm: Voicemail, status: str, message: Optional[str], http_status: Optional[int] = None, attempts: int = 0
    ) -> Outcome:
        entry = self.entries.get(vm.key)
        return Outcome(
            vm.row,
            vm.file,
            vm.woku_id,
            vm.key,
            status,
            http_status,
            message,
            attempts or (entry.attempts if entry else 0),
        )

    def _describe(self, exc: BaseException) -> str:
        """The failure without the method and host the client names; a NestJS body as its messages."""
        return one_line(exc.describe() if isinstance(exc, ApiError) else str(exc))


def _text(value: Any) -> Optional[str]:
    return value if isinstance(value, str) and value else None
