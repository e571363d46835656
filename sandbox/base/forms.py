"""Request body parsing both APIs accept: binary-safe multipart/form-data (what ``curl -F`` sends)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sandbox.base.http import HttpError


@dataclass
class FilePart:
    """One uploaded file of a multipart body."""

    filename: str | None
    content_type: str
    data: bytes


def _disposition_param(disposition: str, name: str) -> str | None:
    m = re.search(rf'(?:^|;)\s*{name}\*?=(?:"((?:[^"\\]|\\.)*)"|([^;]*))', disposition, re.IGNORECASE)
    if not m:
        return None
    return m.group(1) if m.group(1) is not None else m.group(2).strip()


def parse_multipart(body: bytes, content_type: str) -> tuple[dict[str, str], dict[str, FilePart]]:
    """Form fields and files of a multipart/form-data body; no line-ending rewriting, so audio survives."""
    m = re.search(r'boundary=(?:"([^"]+)"|([^;\s]+))', content_type, re.IGNORECASE)
    if not m:
        raise HttpError(400, ["Multipart: Boundary not found"])
    boundary = (m.group(1) or m.group(2)).encode("latin-1")
    fields: dict[str, str] = {}
    files: dict[str, FilePart] = {}
    for chunk in (b"\r\n" + body).split(b"\r\n--" + boundary)[1:]:
        if chunk.startswith(b"--"):
            break
        head, sep, data = chunk.partition(b"\r\n\r\n")
        if not sep:
            continue
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, colon, value = line.partition(":")
            if colon:
                headers[key.strip().lower()] = value.strip()
        disposition = headers.get("content-disposition", "")
        name = _disposition_param(disposition, "name")
        if name is None:
            continue
        filename = _disposition_param(disposition, "filename")
        if filename is not None:
            files[name] = FilePart(filename, headers.get("content-type", ""), data)
        else:
            fields[name] = data.decode("utf-8", "replace")
    return fields, files
