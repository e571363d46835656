"""Woku's voicemail upload: v0 ``/wokus/create-voicemail`` and its v1 alias.

Multipart bodies are parsed binary-safe and checked like the seed page (v0) and
``V1CreateVoicemailBodyDto`` (v1); an accepted upload becomes a voice review.
"""

from __future__ import annotations

import re
from typing import Any

from sandbox.base import Request
from sandbox.base.forms import FilePart, parse_multipart
from sandbox.woku.data import ApiError, is_object_id, sha256_hex
from sandbox.woku.reads import WokuReads

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def is_audio(part: FilePart) -> bool:
    """Audio if the part says ``audio/*``; when it gives no type (or octet-stream), sniff magic bytes."""
    ctype = part.content_type.split(";")[0].strip().lower()
    if ctype.startswith("audio/"):
        return True
    if ctype not in ("", "application/octet-stream"):
        return False
    d = part.data
    return (
        (d[:4] == b"RIFF" and d[8:12] == b"WAVE")
        or d[:3] == b"ID3"
        or (len(d) > 1 and d[0] == 0xFF and d[1] & 0xE0 == 0xE0)  # MPEG audio frame sync
        or d[:4] in (b"OggS", b"fLaC", b"\x1aE\xdf\xa3")  # Ogg/Opus, FLAC, WebM/Matroska
        or d[4:8] == b"ftyp"  # M4A/AAC in MP4
        or d[:6] == b"#!AMR\n"
    )


class WokuVoicemails(WokuReads):
    """Voicemail handlers; ``max_audio_bytes`` bounds an upload (413 above it)."""

    max_audio_bytes: int

    def _voicemail_v0(self, req: Request) -> tuple[int, Any]:
        return self._voicemail(req, None)

    def _voicemail_v1(self, req: Request) -> tuple[int, Any]:
        return self._voicemail(req, self._object_id(req, "wokuId"))

    def _voicemail(self, req: Request, path_woku: str | None) -> tuple[int, Any]:
        """Validate like the seed page (v0) / V1CreateVoicemailBodyDto (v1), then store a voice review."""
        if not req.content_type.lower().startswith("multipart/form-data"):
            raise ApiError(400, ["Content-Type must be multipart/form-data", "file is required"])
        fields, files = parse_multipart(req.body, req.content_type)
        file = files.get("file")
        if file is not None and len(file.data) > self.max_audio_bytes:
            raise ApiError(413, f"File too large: the limit is {self.max_audio_bytes} bytes")
        errors: list[str] = []
        woku_id = path_woku if path_woku is not None else fields.get("wokuId", "")
        if path_woku is None and not is_object_id(woku_id):
            errors.append("wokuId must be a mongodb id")
        qualification = fields.get("qualification", "")
        if qualification not in ("1", "2", "3", "4", "5"):
            errors.append("qualification must be one of the following values: 1, 2, 3, 4, 5")
        anonymous_raw = fields.get("anonymous", "")
        if anonymous_raw not in ("true", "false", ""):
            errors.append("anonymous must be one of the following values: true, false")
        anonymous = anonymous_raw == "true"
        email = fields.get("clientEmail", "").strip() or None
        if email is not None and not _EMAIL.match(email):
            errors.append("clientEmail must be an email")
        if email is None and not anonymous:
            errors.append("clientEmail is required unless anonymous is true")
        language = fields.get("language", "")
        if (path_woku is not None or language) and language not in ("es", "en"):
            errors.append("language must be one of the following values: es, en")
        channel = fields.get("responseChannel", "") or "api"
        if len(channel) > 48:
            errors.append("responseChannel must be shorter than or equal to 48 characters")
        if file is None or not file.data:
            errors.append("file is required")
        elif not is_audio(file):
            errors.append("file must be an audio file")
        if errors:
            raise ApiError(400, errors)
        assert file is not None
        answer, _review = self.company.create_voicemail(
            woku_id,
            audio=file.data,
            qualification=int(qualification),
            client_email=email,
            client_phone=fields.get("clientPhone", "").strip() or None,
            anonymous=anonymous,
            language=language or "es",
            response_channel=channel,
            filename=file.filename,
        )
        self.counters.bump("voicemails_created", f"{woku_id}:{sha256_hex(file.data)}")
        return 201, answer
