"""What a voicemail row is: a manifest row checked against the API's rules and its audio file.

Manifest rows (`file,wokuId,qualification,clientEmail,clientPhone,anonymous`; `file` relative to the manifest):
- `wokuId` a 24-hex ObjectId (sent lower-cased); `qualification` an integer 1-5 written in digits ("4.5", "0"
  and "6" fail); `anonymous` true, false or empty (= false), in any case; `clientEmail` required unless
  `anonymous` is true, and shaped like an email (the API answers 400 otherwise).
- `file` resolves (symlinks followed) inside the manifest's folder, unless `allow_outside` (the
  `--allow-outside-files` option): a manifest from elsewhere must not make us upload `../../.ssh/id_rsa`.
- `file` exists, holds 1 to MAX_AUDIO_BYTES bytes (25,000,000: the API's "25 MB" read as decimal megabytes,
  so no file we send can get its 413 whichever way it counts), has an audio extension, starts with the
  magic bytes of that same format (a text file named .wav, or an .mp3 that holds WAV, fails) AND holds an
  audio stream of it (`audio.py`: a text file that starts with `ID3`, or a photo with an `ftyp` box, fails).
  It is sent with that format's `audio/*` part type, which the API accepts without sniffing.
- No field holds a control character (the reader's check; a NUL cannot even be stored on PostgreSQL).

Ledger key: `wokuId:sha256(file):client`, client `email:<lower-cased email>` or `anonymous`. The email is
mandatory unless the row is anonymous, and the API keeps no contact data on anonymous reviews, so a phone
never decides who the client is. Two manifest rows with one key are one voicemail: the later is a duplicate.
"""

import hashlib
import os
import re
from dataclasses import dataclass
from typing import List, Mapping, Optional, Sequence, Tuple, Union

from pipelines.writeback.audio import AUDIO_EXTENSIONS, FORMATS, sniff_audio, stream_problem
from pipelines.writeback.reader import control_problem, printable, read_csv
from sources.woku.settings import OBJECT_ID

MANIFEST_COLUMNS = ("file", "wokuId", "qualification", "clientEmail", "clientPhone", "anonymous")
#: the API's 25 MB as decimal megabytes: stricter than 25 MiB, so a file we accept never gets a 413
MAX_AUDIO_BYTES = 25_000_000

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DIGITS = re.compile(r"^[0-9]+$")


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


def read_manifest(path: str, *, allow_outside: bool = False) -> List[Checked]:
    """Every row of the manifest, checked; a missing file or a wrong header is a ConfigError.

    Rows count from 1 (the first row after the header); blank lines and rows of empty fields are skipped.
    """
    base = os.path.dirname(os.path.abspath(path))
    rows = read_csv(path, MANIFEST_COLUMNS, f"--manifest {path}", skip_empty_fields=True)
    return [validate_row(n, raw, base, problems, allow_outside=allow_outside) for n, raw, problems in rows]


def validate_row(
    row: int,
    raw: Mapping[str, Optional[str]],
    base_dir: str,
    problems: Sequence[str] = (),
    max_bytes: int = MAX_AUDIO_BYTES,
    *,
    allow_outside: bool = False,
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
    unsafe_name = control_problem("file", raw.get("file"))
    if not text["file"]:
        found.append("file is missing")
    elif unsafe_name:  # the reader reports it; a NUL in a path would even stop the run
        found.extend([] if unsafe_name in found else [unsafe_name])
    elif _outside(base_dir, text["file"], found, allow_outside):
        pass
    else:
        audio = _check_audio(os.path.join(base_dir, text["file"]), text["file"], found, max_bytes)

    if found or audio is None:
        return Invalid(row, printable(text["file"]) or "", printable(woku_id) or None, "; ".join(found))
    path, size, mime, sha = audio
    return Voicemail(
        row, text["file"], path, woku_id, qualification, email, text["clientPhone"] or None, anonymous, sha, size, mime
    )


def _outside(base_dir: str, name: str, found: List[str], allow_outside: bool) -> bool:
    """True (with the problem appended) when `name` resolves outside `base_dir`: `../`, absolute, a symlink."""
    if allow_outside:
        return False
    folder = os.path.realpath(base_dir)
    target = os.path.realpath(os.path.join(base_dir, name))
    if os.path.commonpath([folder, target]) == folder:
        return False
    found.append(
        f"file {_show(name, 200)} resolves outside the manifest's folder {folder!r} (--allow-outside-files allows it)"
    )
    return True


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
        what = f"{FORMATS[actual].name} audio" if actual else "not audio"
        found.append(f"file {_show(name)} is not {FORMATS[expected].name} audio (its content is {what})")
        return None
    problem = stream_problem(path, expected)
    if problem is not None:
        found.append(f"file {_show(name)} is not {FORMATS[expected].name} audio: {problem}")
        return None
    return path, size, FORMATS[expected].mime, sha


def _extensions() -> str:
    return " ".join(sorted(AUDIO_EXTENSIONS))


def _show(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")
