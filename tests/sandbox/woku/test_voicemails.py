"""Tests of the Woku sandbox's voicemail upload (``sandbox/woku/voicemails.py``), over loopback HTTP:
creation, the v1 alias, validation, ``lost_answer`` and chunked multipart bodies.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from sandbox.woku import WokuSandboxServer
from sandbox.woku.data import sha256_hex
from tests.sandbox.woku.support import OID, WAV, session, voicemail_form
from tests.support.hold import HeldCall


def test_voicemail_create_matches_the_seed_and_lands_in_reviews(
    small: tuple[WokuSandboxServer, requests.Session],
) -> None:
    srv, api = small
    co = srv.company
    woku = co.ids("wokus")[-1]
    reviews_url = f"{srv.url}/v1/wokus/{woku}/reviews"
    total_before = api.get(reviews_url).json()["total"]
    form = voicemail_form(woku, qualification="4", clientEmail="pedro@empresa.com", clientPhone="56982959776")
    form["anonymous"] = (None, "false")
    r = api.post(f"{srv.url}/wokus/create-voicemail", files=form)
    assert r.status_code == 201, r.text
    answer = r.json()
    assert set(answer) == {"qualification", "wokuId", "anonymous", "transcription", "feedbackType", "file", "clientId"}
    assert set(answer["qualification"]) == {"_id", "qualification"} and answer["qualification"]["qualification"] == 4
    assert answer["wokuId"] == woku and answer["anonymous"] is False and answer["feedbackType"] == "recognition"
    assert answer["file"]["type"] == "audio" and answer["file"]["url"].startswith("https://")
    assert answer["transcription"] and OID.match(answer["clientId"])
    listed = api.get(reviews_url, params={"limit": 1}).json()
    assert listed["total"] == total_before + 1
    top = listed["data"][0]  # newest first
    assert (top["type"], top["qualification"], top["clientId"]) == ("voice", 4, answer["clientId"])
    assert top["file"] == answer["file"] and top["transcription"] == answer["transcription"]
    assert top["responseChannel"] == "api" and "clientEmail" not in top
    assert srv.voicemail_count(woku, sha256_hex(WAV)) == 1
    log = co.voicemails_for(woku_id=woku)
    assert [(v["sha256"], v["clientEmail"], v["filename"]) for v in log] == [
        (sha256_hex(WAV), "pedro@empresa.com", "review.wav")
    ]
    # same email -> same client; a different audio file -> a different (deterministic) record
    other = WAV + b"\x01"
    r = api.post(
        f"{srv.url}/wokus/create-voicemail",
        files=voicemail_form(
            woku, clientEmail="PEDRO@empresa.com", qualification="2", file=("b.wav", other, "audio/wav")
        ),
    )
    assert r.status_code == 201 and r.json()["clientId"] == answer["clientId"]
    assert r.json()["feedbackType"] == "improvement"
    anon = api.post(f"{srv.url}/wokus/create-voicemail", files=voicemail_form(woku, anonymous="true"))
    assert anon.status_code == 201 and anon.json()["anonymous"] is True
    assert anon.json()["clientId"] != answer["clientId"]
    assert srv.stats()["voicemails_created"] == {f"{woku}:{sha256_hex(WAV)}": 2, f"{woku}:{sha256_hex(other)}": 1}


def test_voicemail_v1_alias(small: tuple[WokuSandboxServer, requests.Session]) -> None:
    srv, api = small
    woku = srv.company.ids("wokus")[3]
    url = f"{srv.url}/v1/wokus/{woku}/voicemails"
    r = api.post(url, files=voicemail_form(None, clientEmail="a@b.co"))
    assert r.status_code == 400 and "language must be one of the following values: es, en" in r.json()["message"]
    r = api.post(url, files=voicemail_form(None, clientEmail="a@b.co", language="en", responseChannel="my-crm"))
    assert r.status_code == 201 and r.json()["wokuId"] == woku
    top = api.get(f"{srv.url}/v1/wokus/{woku}/reviews").json()["data"][0]
    assert (top["language"], top["responseChannel"]) == ("en", "my-crm")
    assert api.post(f"{srv.url}/v1/wokus/nope/voicemails", files=voicemail_form(None, language="es")).status_code == 400
    assert srv.stats()["by_route"]["POST /v1/wokus/{wokuId}/voicemails"] == 3


INVALID_VOICEMAILS = [
    ("woku id not an ObjectId", {"wokuId": "nope"}, "wokuId must be a mongodb id"),
    ("woku id missing", {"wokuId": None}, "wokuId must be a mongodb id"),
    ("qualification 0", {"qualification": "0"}, "qualification must be one of the following values: 1, 2, 3, 4, 5"),
    ("qualification 6", {"qualification": "6"}, "qualification must be one of the following values: 1, 2, 3, 4, 5"),
    ("qualification 4.5", {"qualification": "4.5"}, "qualification must be one of the following values: 1, 2, 3, 4, 5"),
    (
        "qualification text",
        {"qualification": "five"},
        "qualification must be one of the following values: 1, 2, 3, 4, 5",
    ),
    (
        "qualification missing",
        {"qualification": None},
        "qualification must be one of the following values: 1, 2, 3, 4, 5",
    ),
    ("no email, not anonymous", {"clientEmail": None}, "clientEmail is required unless anonymous is true"),
    (
        "no email, anonymous=false",
        {"clientEmail": None, "anonymous": "false"},
        "clientEmail is required unless anonymous is true",
    ),
    ("bad email", {"clientEmail": "not-an-email"}, "clientEmail must be an email"),
    ("anonymous yes", {"anonymous": "yes"}, "anonymous must be one of the following values: true, false"),
    ("file missing", {"file": None}, "file is required"),
    ("file empty", {"file": ("a.wav", b"", "audio/wav")}, "file is required"),
    ("file is text", {"file": ("notes.txt", b"hello", "text/plain")}, "file must be an audio file"),
    ("file is a png", {"file": ("a.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, "")}, "file must be an audio file"),
]


@pytest.mark.parametrize(("case", "fields", "message"), INVALID_VOICEMAILS, ids=[c[0] for c in INVALID_VOICEMAILS])
def test_voicemail_validation(
    small: tuple[WokuSandboxServer, requests.Session], case: str, fields: dict[str, Any], message: str
) -> None:
    srv, api = small
    woku = srv.company.ids("wokus")[-1]
    reviews = srv.company.count("woku_reviews")
    form = voicemail_form(woku, clientEmail="ana@example.com")
    for key, value in fields.items():
        if value is None:
            form.pop(key, None)
        else:
            form[key] = value if isinstance(value, tuple) else (None, value)
    r = api.post(f"{srv.url}/wokus/create-voicemail", files=form)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["statusCode"] == 400 and body["error"] == "Bad Request" and message in body["message"]
    assert srv.company.count("woku_reviews") == reviews and srv.stats()["voicemails_created"] == {}


def test_voicemail_other_outcomes(small: tuple[WokuSandboxServer, requests.Session]) -> None:
    srv, api = small
    co = srv.company
    url = f"{srv.url}/wokus/create-voicemail"
    closed = next(w["_id"] for w in co.truth("wokus") if w["closed"])
    open_woku = next(w["_id"] for w in co.truth("wokus") if not w["closed"])
    assert api.post(url, files=voicemail_form("0" * 24, anonymous="true")).status_code == 404
    assert api.post(url, files=voicemail_form(co.foreign_ids["wokus"][0], anonymous="true")).status_code == 403
    assert api.post(url, files=voicemail_form(closed, anonymous="true")).status_code == 400
    assert api.post(url, json={"wokuId": open_woku, "qualification": "5", "anonymous": "true"}).status_code == 400
    # audio recognised by its declared type, or by magic bytes when the part carries no type
    for file in (
        ("a.mp3", b"whatever", "audio/mpeg"),
        ("a.mp3", b"ID3\x03" + b"\x00" * 32, ""),
        ("a.ogg", b"OggS" + b"\x00" * 32, "application/octet-stream"),
    ):
        assert api.post(url, files=voicemail_form(open_woku, anonymous="true", file=file)).status_code == 201, file
    with WokuSandboxServer(co, max_audio_bytes=1000) as tight:
        r = session(tight).post(
            f"{tight.url}/wokus/create-voicemail", files=voicemail_form(open_woku, anonymous="true")
        )
        assert r.status_code == 413 and r.json()["error"] == "Payload Too Large"


def test_lost_answer_voicemail_is_processed_without_an_answer(
    small: tuple[WokuSandboxServer, requests.Session],
) -> None:
    srv, api = small
    woku = srv.company.ids("wokus")[1]
    reviews_url = f"{srv.url}/v1/wokus/{woku}/reviews"
    before = api.get(reviews_url).json()["total"]
    srv.inject("lost_answer", "/wokus/create-voicemail", method="POST")
    with pytest.raises(requests.ConnectionError):
        api.post(f"{srv.url}/wokus/create-voicemail", files=voicemail_form(woku, clientEmail="lost@example.com"))
    after = api.get(reviews_url).json()
    assert after["total"] == before + 1 and after["data"][0]["type"] == "voice"  # the POST did land
    assert srv.voicemail_count(woku, sha256_hex(WAV)) == 1
    stats = srv.stats()
    assert stats["lost_answers"] == 1 and stats["faults"] == {"lost_answer": 1}
    # a blind re-send creates a duplicate: exactly what a connector has to avoid
    r = api.post(f"{srv.url}/wokus/create-voicemail", files=voicemail_form(woku, clientEmail="lost@example.com"))
    assert r.status_code == 201 and srv.voicemail_count(woku, sha256_hex(WAV)) == 2
    assert r.json()["clientId"] == after["data"][0]["clientId"]
    # with a delay, a client timeout shorter than it sees a timeout; the upload still lands
    srv.inject("lost_answer", "/wokus/create-voicemail", seconds=0.6)
    created = HeldCall(srv.company, "create_voicemail")  # not held: `done` tells when the upload was created
    created.release.set()
    with pytest.raises(requests.Timeout):
        api.post(f"{srv.url}/wokus/create-voicemail", files=voicemail_form(woku, anonymous="true"), timeout=0.2)
    assert created.done.wait(60)
    assert srv.voicemail_count(woku, sha256_hex(WAV)) == 3


def test_chunked_multipart_upload(small: tuple[WokuSandboxServer, requests.Session]) -> None:
    srv, api = small
    woku = srv.company.ids("wokus")[2]
    body = (
        b'--XyZ\r\nContent-Disposition: form-data; name="wokuId"\r\n\r\n' + woku.encode() + b"\r\n"
        b'--XyZ\r\nContent-Disposition: form-data; name="qualification"\r\n\r\n3\r\n'
        b'--XyZ\r\nContent-Disposition: form-data; name="anonymous"\r\n\r\ntrue\r\n'
        b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n'
        b"Content-Type: audio/wav\r\n\r\n" + WAV + b"\r\n--XyZ--\r\n"
    )
    chunks = (body[i : i + 100] for i in range(0, len(body), 100))  # a generator makes requests send it chunked
    r = api.post(
        f"{srv.url}/wokus/create-voicemail", data=chunks, headers={"Content-Type": "multipart/form-data; boundary=XyZ"}
    )
    assert r.status_code == 201, r.text
    assert srv.voicemail_count(woku, sha256_hex(WAV)) == 1  # the binary file arrived byte for byte
