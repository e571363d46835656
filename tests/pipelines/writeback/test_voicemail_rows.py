"""What a voicemail row is: manifest checks, audio sniffing, the ledger key, and the manifest reader."""

from pathlib import Path
from typing import Any, Dict, Optional

import pytest

from pipelines.writeback.voicemail_rows import Invalid, Voicemail, read_manifest, sniff_audio, validate_row
from sources.http_kit import ConfigError
from tests.pipelines.writeback.voicemail_helpers import WOKU, wav


def row(tmp_path: Path, **overrides: Any) -> Any:
    if "file" not in overrides:
        (tmp_path / "a.wav").write_bytes(wav(1))
    raw = {
        "file": "a.wav",
        "wokuId": WOKU,
        "qualification": "4",
        "clientEmail": "Ana@Example.com",
        "clientPhone": "",
        "anonymous": "",
        **overrides,
    }
    return validate_row(3, raw, str(tmp_path))


def reason(tmp_path: Path, **overrides: Any) -> str:
    checked = row(tmp_path, **overrides)
    assert isinstance(checked, Invalid), f"expected an invalid row for {overrides}"
    assert checked.row == 3
    return checked.reason


# ------------------------------------------------------------------------------------------ validation
def test_a_valid_row_has_its_key_mime_and_lower_cased_client(tmp_path: Path) -> None:
    vm = row(tmp_path, wokuId=WOKU.upper())
    assert isinstance(vm, Voicemail)
    assert (vm.woku_id, vm.qualification, vm.email, vm.anonymous, vm.mime) == (
        WOKU,
        4,
        "Ana@Example.com",
        False,
        "audio/wav",
    )
    assert vm.client == "email:ana@example.com"
    assert vm.key == f"{WOKU}:{vm.sha256}:email:ana@example.com"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"wokuId": "6534887"}, "wokuId '6534887' is not a 24-hex ObjectId"),
        ({"wokuId": "z" * 24}, "is not a 24-hex ObjectId"),
        ({"wokuId": ""}, "wokuId is missing"),
        ({"qualification": "0"}, "qualification '0' is not an integer from 1 to 5"),
        ({"qualification": "6"}, "qualification '6' is not an integer from 1 to 5"),
        ({"qualification": "4.5"}, "qualification '4.5' is not an integer from 1 to 5"),
        ({"qualification": "-1"}, "is not an integer from 1 to 5"),
        ({"qualification": "four"}, "is not an integer from 1 to 5"),
        ({"qualification": ""}, "qualification is missing"),
        ({"clientEmail": ""}, "clientEmail is required unless anonymous is true"),
        ({"clientEmail": "", "anonymous": "false"}, "clientEmail is required unless anonymous is true"),
        ({"clientEmail": "ana at example"}, "clientEmail 'ana at example' is not an email address"),
        ({"anonymous": "yes"}, "anonymous 'yes' is not true, false or empty"),
    ],
)
def test_invalid_fields_are_named(tmp_path: Path, overrides: Dict[str, str], expected: str) -> None:
    assert expected in reason(tmp_path, **overrides)


@pytest.mark.parametrize("flag", ["true", "TRUE", " True "])
def test_anonymous_needs_no_email(tmp_path: Path, flag: str) -> None:
    vm = row(tmp_path, clientEmail="", anonymous=flag)
    assert isinstance(vm, Voicemail) and vm.anonymous and vm.client == "anonymous"


def test_qualification_padding_is_not_a_problem(tmp_path: Path) -> None:
    vm = row(tmp_path, qualification=" 5 ")
    assert isinstance(vm, Voicemail) and vm.qualification == 5


def test_every_problem_of_a_row_is_listed_at_once(tmp_path: Path) -> None:
    text = reason(tmp_path, wokuId="nope", qualification="9", clientEmail="", file="gone.wav")
    assert text.count(";") == 3 and "gone.wav" in text


def test_file_problems(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "fake.wav").write_text("this is text, not audio")
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "wav-inside.mp3").write_bytes(wav(2))
    (tmp_path / "folder.wav").mkdir()
    assert "file is missing" in reason(tmp_path, file="")
    assert "'missing.wav' does not exist" in reason(tmp_path, file="missing.wav")
    assert "'notes.txt' is not audio: extension '.txt'" in reason(tmp_path, file="notes.txt")
    assert "'fake.wav' is not WAV audio (its content is not audio)" in reason(tmp_path, file="fake.wav")
    assert "'wav-inside.mp3' is not MP3 audio (its content is WAV audio)" in reason(tmp_path, file="wav-inside.mp3")
    assert "'empty.wav' is empty" in reason(tmp_path, file="empty.wav")
    assert "not a regular file" in reason(tmp_path, file="folder.wav")


def test_files_are_relative_to_the_manifest_and_the_size_limit_is_enforced(tmp_path: Path) -> None:
    (tmp_path / "audio").mkdir()
    (tmp_path / "audio" / "big.wav").write_bytes(wav(3))
    size = len(wav(3))
    ok = validate_row(
        1,
        {"file": "audio/big.wav", "wokuId": WOKU, "qualification": "1", "anonymous": "true"},
        str(tmp_path),
        max_bytes=size,
    )
    assert isinstance(ok, Voicemail) and ok.size == size
    too_big = validate_row(
        1,
        {"file": "audio/big.wav", "wokuId": WOKU, "qualification": "1", "anonymous": "true"},
        str(tmp_path),
        max_bytes=size - 1,
    )
    assert isinstance(too_big, Invalid) and f"is {size:,} bytes; the limit is {size - 1:,}" in too_big.reason


@pytest.mark.parametrize(
    ("head", "fmt"),
    [
        (wav(1)[:16], "wav"),
        (b"ID3\x04\x00" + bytes(11), "mp3"),
        (b"\xff\xfb\x90\x64" + bytes(12), "mp3"),
        (b"\xff\xf1\x50\x80" + bytes(12), "aac"),
        (b"OggS\x00\x02" + bytes(10), "ogg"),
        (b"fLaC\x00\x00\x00\x22" + bytes(8), "flac"),
        (b"\x1aE\xdf\xa3\x9fB\x86\x81" + bytes(8), "webm"),
        (b"\x00\x00\x00\x20ftypM4A " + bytes(4), "m4a"),
        (b"#!AMR\n" + bytes(10), "amr"),
        (b"%PDF-1.7" + bytes(8), None),
        (b"\xff\xe0" + bytes(14), None),  # frame sync with the reserved layer: not MPEG audio
        (b"RIFF\x00\x00\x00\x00AVI " + bytes(4), None),
    ],
)
def test_magic_bytes(head: bytes, fmt: Optional[str]) -> None:
    assert sniff_audio(head) == fmt


def test_manifest_header_blank_lines_bom_and_short_rows(tmp_path: Path) -> None:
    (tmp_path / "a.wav").write_bytes(wav(1))
    manifest = tmp_path / "m.csv"
    manifest.write_text(
        "\ufeffFILE,wokuid,Qualification,clientEmail,clientPhone,anonymous\n"
        f"a.wav,{WOKU},4,ana@example.com,,\n\n"
        f"a.wav,{WOKU},4\n",
        encoding="utf-8",
    )
    first, second = read_manifest(str(manifest))
    assert isinstance(first, Voicemail) and first.row == 1
    assert isinstance(second, Invalid) and second.row == 2 and "the row has 3 fields, expected 6" in second.reason


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", "is empty; expected the header"),
        ("file,wokuId,qualification\n", "expected exactly file,wokuId,qualification,clientEmail,clientPhone,anonymous"),
    ],
)
def test_a_bad_manifest_is_a_config_error(tmp_path: Path, content: str, expected: str) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text(content)
    with pytest.raises(ConfigError, match=expected):
        read_manifest(str(manifest))
    with pytest.raises(ConfigError, match="no such file"):
        read_manifest(str(tmp_path / "absent.csv"))


# ------------------------------------------------------------------------------------- files that escape
def test_a_file_must_resolve_inside_the_manifest_folder(tmp_path: Path) -> None:
    folder = tmp_path / "batch"
    (folder / "audio").mkdir(parents=True)
    (tmp_path / "outside.wav").write_bytes(wav(5))
    (folder / "audio" / "inside.wav").write_bytes(wav(6))
    (folder / "audio" / "out-link.wav").symlink_to(tmp_path / "outside.wav")
    (folder / "in-link.wav").symlink_to(folder / "audio" / "inside.wav")

    def checked(name: str, allow: bool = False) -> Any:
        raw = {"file": name, "wokuId": WOKU, "qualification": "2", "anonymous": "true"}
        return validate_row(1, raw, str(folder), allow_outside=allow)

    for name in ("../outside.wav", str(tmp_path / "outside.wav"), "audio/out-link.wav", "audio/../../outside.wav"):
        refused = checked(name)
        assert isinstance(refused, Invalid), name
        assert refused.reason == (
            f"file {name!r} resolves outside the manifest's folder {str(folder)!r} (--allow-outside-files allows it)"
        )
        assert isinstance(checked(name, allow=True), Voicemail), name
    for name in ("audio/inside.wav", "in-link.wav", "audio/../audio/inside.wav", str(folder / "audio" / "inside.wav")):
        assert isinstance(checked(name), Voicemail), name


def test_a_control_character_in_the_file_name_is_one_problem_not_a_crash(tmp_path: Path) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text(
        f"file,wokuId,qualification,clientEmail,clientPhone,anonymous\na\x00.wav,{WOKU},4,,,true\n", encoding="utf-8"
    )
    (invalid,) = read_manifest(str(manifest))
    assert isinstance(invalid, Invalid) and invalid.file == "a\\x00.wav"
    assert invalid.reason == "file holds the control character U+0000 (NUL, which cannot be stored) at character 2"
