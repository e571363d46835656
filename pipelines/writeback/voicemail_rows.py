"""What a voicemail row is: a manifest row checked against the API's rules and its audio file.

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
"""

import hashlib
import os
import re
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

from pipelines.writeback.reader import read_csv
from sources.woku.settings import OBJECT_ID

MANIFEST_COLUMNS = ("file", "wokuId", "qualification", "clientEmail", "clientPhone", "anonymous")
#: the API's 25 MB as decimal megabytes: stricter than 25 MiB, so a file we accept never gets a 413
MAX_AUDIO_BYTES = 25_000_000

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

    Rows count from 1 (the first row after the header); blank lines and rows of empty fields are skipped.
    """
    base = os.path.dirname(os.path.abspath(path))
    rows = read_csv(path, MANIFEST_COLUMNS, f"--manifest {path}", skip_empty_fields=True)
    return [validate_row(n, raw, base, problems) for n, raw, problems in rows]


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
