"""Multipart parsing: fields and files apart, bytes untouched, a missing boundary is a 400."""

from __future__ import annotations

import pytest

from sandbox.base.forms import parse_multipart
from sandbox.base.http import HttpError


def test_fields_and_binary_files() -> None:
    audio = b"RIFF\r\n\x00\xff\r\n--not-the-boundary"
    body = (
        b'--B\r\nContent-Disposition: form-data; name="grant_type"\r\n\r\npassword\r\n'
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="a b.wav"\r\nContent-Type: audio/wav\r\n\r\n'
        + audio
        + b"\r\n--B\r\nContent-Disposition: form-data\r\n\r\nnameless\r\n--B--\r\n"
    )
    fields, files = parse_multipart(body, 'multipart/form-data; boundary="B"')
    assert fields == {"grant_type": "password"}
    assert files["file"].filename == "a b.wav" and files["file"].content_type == "audio/wav"
    assert files["file"].data == audio


def test_missing_boundary_is_a_bad_request() -> None:
    with pytest.raises(HttpError) as caught:
        parse_multipart(b"", "multipart/form-data")
    assert caught.value.status == 400 and caught.value.message == ["Multipart: Boundary not found"]
