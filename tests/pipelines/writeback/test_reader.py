"""The one write-back reader: CSV rows numbered and kept with their problems, one error mapping for files."""

from pathlib import Path

import pytest

from pipelines.writeback.reader import control_problem, parse_table_name, printable, read_csv
from pipelines.writeback.trackers import read_values as read_tracker_csv
from sources.http_kit import ConfigError

COLUMNS = ("entity_type", "entity_id", "name", "value")
MIXED = ("file", "wokuId", "qualification")


def test_csv_reader_numbers_data_rows_and_keeps_bad_ones(tmp_path: Path) -> None:
    path = tmp_path / "values.csv"
    text = '\ufeffName, VALUE ,entity_id,Entity_Type\r\ntrr,1,a,nps\r\n\r\n,,,\r\ntrr,2,b\r\ntrr,"3,4",c,woku,extra\r\n'
    path.write_text(text, encoding="utf-8")
    rows = read_tracker_csv(str(path))
    assert [n for n, _, _ in rows] == [1, 2, 3, 4]
    assert rows[0][1] == {"name": "trr", "value": "1", "entity_id": "a", "entity_type": "nps"}
    assert rows[1][1] == {"name": "", "value": "", "entity_id": "", "entity_type": ""} and rows[1][2] == []
    assert rows[2][2] == ["the row has 3 fields, expected 4 (quote values that contain commas)"]
    assert rows[3][1]["value"] == "3,4" and rows[3][2][0].startswith("the row has 5 fields")


def test_rows_of_empty_fields_can_be_skipped_and_header_case_is_canonical(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("\ufeffFILE,wokuid,Qualification\na.wav,x,4\n,,\n \n\nb.wav,y\n", encoding="utf-8")
    rows = read_csv(str(path), MIXED, "--manifest m.csv", skip_empty_fields=True)
    assert [(n, dict(raw), list(p)) for n, raw, p in rows] == [
        (1, {"file": "a.wav", "wokuId": "x", "qualification": "4"}, []),
        (2, {"file": "b.wav", "wokuId": "y"}, ["the row has 2 fields, expected 3"]),
    ]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "--file F is empty; expected the header entity_type,entity_id,name,value"),
        (b"entity_type,entity_id,name\n", "--file F: the header is 'entity_type,entity_id,name'; expected exactly"),
        (b"entity_type,entity_id,name,value,owner\n", "expected exactly entity_type,entity_id,name,value"),
        ("entity_type,entity_id,name,value\nnps,x,año,1\n".encode("latin-1"), "--file F is not UTF-8 text"),
        (b"entity_type,entity_id,name,value\nnps,x,y," + b"v" * 200_000 + b"\n", "--file F is not valid CSV"),
    ],
    ids=["empty", "missing column", "extra column", "latin-1", "oversized field"],
)
def test_a_bad_file_is_one_config_error(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        read_csv(str(path), COLUMNS, "--file F")
    assert expected in str(caught.value)


def test_files_that_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--file F: no such file"):
        read_csv(str(tmp_path / "absent.csv"), COLUMNS, "--file F")
    with pytest.raises(ConfigError, match="--file F is a directory, not a CSV file"):
        read_csv(str(tmp_path), COLUMNS, "--file F")


def test_a_file_we_may_not_read_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # root reads any file, so the refusal is raised where the OS would raise it
    locked = tmp_path / "locked.csv"
    locked.write_text("entity_type,entity_id,name,value\n")
    real_open = open

    def refuse(file, *args, **kwargs):  # noqa: ANN001 - open's own signature
        if str(file) == str(locked):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", refuse)
    with pytest.raises(ConfigError, match=r"--file F cannot be read \(permission denied\)"):
        read_csv(str(locked), COLUMNS, "--file F")


@pytest.mark.parametrize("text", ["crm.values", " crm.values ", "_a.B_2"])
def test_table_names(text: str) -> None:
    assert parse_table_name(text) == tuple(text.strip().split("."))


@pytest.mark.parametrize("text", ["values", "a.b.c", "crm.x; DROP TABLE y", '"crm".values', "1a.b", "a."])
def test_anything_but_two_plain_identifiers_is_refused(text: str) -> None:
    with pytest.raises(ConfigError, match="is not SCHEMA.TABLE"):
        parse_table_name(text)


# ------------------------------------------------------------------------------------------- quotes
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # the quote on line 2 pairs with the first quote of line 3: read leniently, line 3 would vanish
        (
            # the quote on line 2 pairs with the first quote of line 3: read leniently, line 3 would vanish
            'a,b,c,d\nnps,x,trr,"v1\nnps,y,trr,"v2"\nnps,z,trr,v3\n',
            "line 2: the quote that opens a value here"
            " closes on line 3 followed by 'v', not by a comma or the end of the line (a quote left open?)",
        ),
        (
            'a,b,c,d\nnps,x,trr,v1\nnps,"y,trr,v2\nnps,z,trr,v3\n',
            "line 3: the quote that opens a value here is never closed",
        ),
        ('a,b,c,d\r\nnps,x,trr,"5" screen\r\n', "line 2: the quote that opens a value here closes on line 2"),
        ('a,b,c,d\nnps,x,trr,"one\ntwo\nthree"x\n', "line 2: the quote that opens a value here closes on line 4"),
    ],
    ids=["closed by the next line's quote", "never closed", "text after the closing quote", "after 2 lines"],
)
def test_a_quote_left_open_is_refused_with_the_line_it_opens_on(tmp_path: Path, body: str, expected: str) -> None:
    path = tmp_path / "f.csv"
    path.write_text(body.replace("a,b,c,d", ",".join(COLUMNS)), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        read_csv(str(path), COLUMNS, "--file F")
    assert str(caught.value).startswith(f"--file F: {expected}")
    assert "\n" not in str(caught.value)


def test_quoted_values_that_close_properly_still_span_lines(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text(
        ",".join(COLUMNS) + '\nnps,x,trr,"two\nlines"\r\nnps,y,"say ""hi""",v\nnps,z,t"r,v\n', encoding="utf-8"
    )
    rows = read_csv(str(path), COLUMNS, "--file F")
    assert [(raw["value"], raw["name"], list(p)) for _, raw, p in rows] == [
        ("two\nlines", "trr", []),
        ("v", 'say "hi"', []),
        ("v", 't"r', []),  # a quote inside an unquoted value is a character
    ]


# --------------------------------------------------------------------------------- control characters
def test_a_control_character_is_a_problem_of_its_row(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text(",".join(COLUMNS) + "\nnps,x\x00,trr,v\x7f\nnps,y,trr,\tv\r\n", encoding="utf-8")
    first, second = read_csv(str(path), COLUMNS, "--file F")
    assert first[2] == [
        "entity_id holds the control character U+0000 (NUL, which cannot be stored) at character 2",
        "value holds the control character U+007F (which no value holds) at character 2",
    ]
    assert second[2] == [] and second[1]["value"] == "\tv"  # tab and line breaks are text


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("plain", "plain"), ("a\x00b", "a\\x00b"), ("\x1b[31m\x85", "\\x1b[31m\\x85")],
)
def test_printable_escapes_control_characters(value, expected) -> None:
    assert printable(value) == expected
    assert control_problem("c", 12) is None
