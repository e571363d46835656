"""Audio checks of a voicemail file: real files of every accepted format pass, files that only start like
audio are refused with a reason naming the file, and no parser failure escapes as an exception."""

from pathlib import Path

import pytest

from pipelines.writeback import audio
from pipelines.writeback.audio import AUDIO_EXTENSIONS, stream_problem
from pipelines.writeback.voicemail_rows import Invalid, Voicemail, validate_row
from tests.pipelines.writeback.audio_samples import IMPOSTORS, SAMPLES, mp3
from tests.pipelines.writeback.voicemail_helpers import WOKU

MIMES = {"wav": "audio/wav", "mp3": "audio/mpeg", "aac": "audio/aac", "ogg": "audio/ogg", "opus": "audio/ogg"}
MIMES.update({"flac": "audio/flac", "webm": "audio/webm", "m4a": "audio/mp4", "amr": "audio/amr"})


def check(tmp_path: Path, name: str, content: bytes):  # noqa: ANN201 - Voicemail or Invalid
    (tmp_path / name).write_bytes(content)
    raw = {"file": name, "wokuId": WOKU, "qualification": "3", "anonymous": "true"}
    return validate_row(1, raw, str(tmp_path))


def test_every_extension_has_a_sample() -> None:
    assert {ext.lstrip(".") for ext in AUDIO_EXTENSIONS} - {"wave", "oga", "weba"} == set(SAMPLES)


@pytest.mark.parametrize("ext", list(SAMPLES))
def test_real_audio_of_every_format_passes(tmp_path: Path, ext: str) -> None:
    vm = check(tmp_path, f"real.{ext}", SAMPLES[ext](1))
    assert isinstance(vm, Voicemail), vm
    assert vm.mime == MIMES[ext]


@pytest.mark.parametrize(("name", "content", "kind"), IMPOSTORS, ids=[name for name, _, _ in IMPOSTORS])
def test_a_file_that_only_starts_like_audio_is_refused(tmp_path: Path, name: str, content: bytes, kind: str) -> None:
    invalid = check(tmp_path, name, content)
    assert isinstance(invalid, Invalid), f"{name} passed as audio"
    assert invalid.reason.startswith(f"file {name!r} is not {kind} audio: ")
    assert "\n" not in invalid.reason and str(tmp_path) not in invalid.reason


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("text.mp3", b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"then only text, no MPEG frame\n" * 30, "can't sync"),
        ("one-sync.mp3", mp3(id3=False)[:420] + b"text" * 100, "no run of valid MPEG audio frames"),
        ("cut.amr", b"#!AMR\n" + SAMPLES["amr"](0)[6:40], "its last AMR frame is cut short"),
        ("silence.amr", b"#!AMR\n" + b"\x7c" * 5, "no speech frame"),
        ("matroska-video.webm", SAMPLES["webm"](0).replace(b"webm", b"wxyz", 1), "its EBML DocType is 'wxyz'"),
    ],
)
def test_reasons_say_what_is_missing(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    invalid = check(tmp_path, name, content)
    assert isinstance(invalid, Invalid) and reason in invalid.reason, invalid


def test_a_parser_that_fails_in_any_way_means_not_audio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.flac").write_bytes(SAMPLES["flac"](0))

    def explode(path: str) -> None:
        raise IndexError("list index out of range")

    monkeypatch.setitem(audio._CHECKS, "flac", explode)
    assert stream_problem(str(tmp_path / "a.flac"), "flac") == (
        "no FLAC audio stream could be read (list index out of range)"
    )
