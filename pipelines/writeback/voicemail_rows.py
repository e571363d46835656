"""What a voicemail row is: a manifest row checked against the API's rules and its audio file (the rules:
docs/writeback.md). Its ledger key is `wokuId:sha256(file):client`, client `email:<lower-cased email>` or
`anonymous`: the API keeps no contact data on anonymous reviews, so a phone never decides the client."""

import hashlib
import os
import re
from dataclasses import dataclass
from typing import List, Mapping, Optional, Sequence, Tuple, Union

from pipelines.writeback.audio import AUDIO_EXTENSIONS, FORMATS, sniff_audio, stream_problem
from pipelines.writeback.reader import control_problem, printable, read_csv, shown
from sources.woku.settings import OBJECT_ID

MANIFEST_COLUMNS = ("file", "wokuId", "qualification", "clientEmail", "clientPhone", "anonymous")
#: the API's 25 MB as decimal megabytes: stricter than 25 MiB, so a file we accept never gets a 413
MAX_AUDIO_BYTES = 25_000_000

#: per column, the text it may hold (checked when not empty) and what other text is not; in message order
_RULES = {
    "wokuId": (OBJECT_ID, "is not a 24-hex ObjectId"),
    "qualification": (re.compile(r"0*[1-5]"), "is not an integer from 1 to 5"),
    "anonymous": (re.compile(r"true|false", re.IGNORECASE | re.ASCII), "is not true, false or empty"),
    "clientEmail": (re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+"), "is not an email address"),
}


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
        return f"{self.woku_id}:{self.sha256}:{self.client}"


@dataclass(frozen=True)
class Invalid:
    """A manifest row that failed a check; `reason` names every problem at once."""

    row: int
    file: str
    woku_id: Optional[str]
    reason: str


Checked = Union[Voicemail, Invalid]


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
    for column, (pattern, must) in _RULES.items():
        if not text[column] and column in ("wokuId", "qualification"):
            found.append(f"{column} is missing")
        elif text[column] and not pattern.fullmatch(text[column]):
            found.append(f"{column} {shown(text[column])} {must}")
    anonymous = text["anonymous"].lower() == "true"
    if not text["clientEmail"] and text["anonymous"].lower() in ("false", ""):
        found.append("clientEmail is required unless anonymous is true")

    audio: Union[str, Tuple[str, int, str, str]] = "file is missing"
    if text["file"]:
        # a control character is the reader's problem (already found); a NUL in a path would stop the run
        unsafe = control_problem("file", raw.get("file"))
        audio = unsafe or _check_file(base_dir, text["file"], max_bytes, allow_outside)
    if isinstance(audio, str) and audio not in found:
        found.append(audio)
    if found or isinstance(audio, str):
        woku_id = printable(text["wokuId"].lower()) or None
        return Invalid(row, printable(text["file"]) or "", woku_id, "; ".join(found))
    path, size, mime, sha = audio
    email, phone = text["clientEmail"] or None, text["clientPhone"] or None
    woku_id, qualification = text["wokuId"].lower(), int(text["qualification"])
    return Voicemail(row, text["file"], path, woku_id, qualification, email, phone, anonymous, sha, size, mime)


def _check_file(base_dir: str, name: str, max_bytes: int, allow_outside: bool) -> Union[str, Tuple[str, int, str, str]]:
    """(path, size, mime, sha256) of an audio file inside `base_dir` (`../`, absolute or a symlink pointing
    out are not, unless `allow_outside`), or its problem."""
    path, what = os.path.join(base_dir, name), f"file {shown(name)}"
    folder = os.path.realpath(base_dir)
    if not allow_outside and os.path.commonpath([folder, os.path.realpath(path)]) != folder:
        outside = f"resolves outside the manifest's folder {folder!r} (--allow-outside-files allows it)"
        return f"file {shown(name, 200)} {outside}"
    if not os.path.exists(path):
        return f"{what} does not exist"
    if not os.path.isfile(path):
        return f"{what} is not a regular file"
    size = os.path.getsize(path)
    if size == 0:
        return f"{what} is empty"
    if size > max_bytes:
        return f"{what} is {size:,} bytes; the limit is {max_bytes:,}"
    ext = os.path.splitext(name)[1].lower()
    expected = AUDIO_EXTENSIONS.get(ext)
    if expected is None:
        return f"{what} is not audio: extension {ext or '(none)'!r} is not one of {' '.join(sorted(AUDIO_EXTENSIONS))}"
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
            fh.seek(0)
            sha = hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError as exc:
        return f"{what} cannot be read: {exc.strerror or type(exc).__name__}"
    actual, kind = sniff_audio(head), FORMATS[expected].name
    if actual != expected:
        return (
            f"{what} is not {kind} audio (its content is {f'{FORMATS[actual].name} audio' if actual else 'not audio'})"
        )
    problem = stream_problem(path, expected)
    return f"{what} is not {kind} audio: {problem}" if problem else (path, size, FORMATS[expected].mime, sha)
