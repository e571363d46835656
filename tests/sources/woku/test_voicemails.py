"""Voicemail import rules without a network: row checks, the ledger key, the lost-answer rule, and the importer
over a fake Woku that records every POST and lists the reviews it created."""

import itertools
import struct
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

from sources.http_kit import ApiError, ApiUnavailableError, AuthError, ConfigError
from sources.woku.voicemails import (
    ACCEPTED,
    AMBIGUOUS,
    CLASSIC_PATH,
    DUPLICATE,
    FAILED,
    INVALID,
    NOT_CREATED,
    PENDING,
    RECOVERED,
    REJECTED,
    SKIPPED,
    UNCERTAIN,
    Invalid,
    LedgerEntry,
    MemoryLedger,
    Voicemail,
    VoicemailImporter,
    match_lost,
    read_manifest,
    sniff_audio,
    validate_row,
)

WOKU = "65348875f3a876254aa82d5e"
OTHER_WOKU = "65348875f3a876254aa82d5f"
T0 = 1_700_000_000.0
SETTLE = 5.0


def wav(seed: int) -> bytes:
    data = struct.pack("<I", seed) * 40
    fmt = struct.pack("<IHHIIHH", 16, 1, 1, 8000, 8000, 1, 8)
    return (
        b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt " + fmt + b"data" + struct.pack("<I", len(data)) + data
    )


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


# ------------------------------------------------------------------------------------ lost-answer rule
def entry(
    key: str = "k1",
    *,
    client: str = "email:ana@example.com",
    anonymous: bool = False,
    qualification: int = 4,
    sent_at: float = T0,
    ended_at: Optional[float] = None,
    status: str = PENDING,
    **kw: Any,
) -> LedgerEntry:
    return LedgerEntry(
        key, WOKU, "ab" * 32, client, anonymous, qualification, status=status, sent_at=sent_at, ended_at=ended_at, **kw
    )


def review(rid: str, at: float, *, client: str = "c-ana", qualification: int = 4, **kw: Any) -> Dict[str, Any]:
    created = datetime.fromtimestamp(at, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "_id": rid,
        "wokuId": WOKU,
        "type": "voice",
        "qualification": qualification,
        "clientId": client,
        "anonymous": False,
        "file": {"url": f"https://files/{rid}"},
        "createdAt": created,
        **kw,
    }


def decide(
    entries: List[LedgerEntry], reviews: List[Dict[str, Any]], known: Optional[Dict[str, str]] = None, claimed=()
):
    found = match_lost(entries, {WOKU: reviews}, known or {}, set(claimed), settle=SETTLE, skew=60.0)
    return {k: (m.status, (m.review or {}).get("_id")) for k, m in found.items()}


def test_a_known_client_is_matched_exactly() -> None:
    known = {"email:ana@example.com": "c-ana"}
    assert decide([entry()], [review("r1", T0 + 1)], known) == {"k1": (RECOVERED, "r1")}
    # the only review in the window is someone else's: ours was not created
    assert decide([entry()], [review("r1", T0 + 1, client="c-bob")], known) == {"k1": (NOT_CREATED, None)}


def test_an_unknown_client_matches_uncertainly_but_never_a_known_clients_review() -> None:
    assert decide([entry()], [review("r1", T0 + 1, client="c-new")]) == {"k1": (UNCERTAIN, "r1")}
    known = {"email:bob@example.com": "c-bob"}
    assert decide([entry()], [review("r1", T0 + 1, client="c-bob")], known) == {"k1": (NOT_CREATED, None)}


def test_anonymous_rows_match_anonymous_reviews_only() -> None:
    anon = entry(client="anonymous", anonymous=True)
    assert decide([anon], [review("r1", T0 + 1, client="fresh")]) == {"k1": (NOT_CREATED, None)}
    assert decide([anon], [review("r1", T0 + 1, client="fresh", anonymous=True)]) == {"k1": (UNCERTAIN, "r1")}


@pytest.mark.parametrize(
    "other",
    [
        review("r1", T0 - 61),  # before the send, beyond the clock-skew margin
        review("r1", T0 + SETTLE + 61),  # after the send had settled, beyond the margin
        review("r1", T0 + 1, qualification=3),
        review("r1", T0 + 1, type="text"),
        review("r1", T0 + 1, anonymous=True),
    ],
)
def test_reviews_that_cannot_be_ours(other: Dict[str, Any]) -> None:
    assert decide([entry()], [other], {"email:ana@example.com": "c-ana"}) == {"k1": (NOT_CREATED, None)}


def test_the_window_allows_clock_skew_and_counts_from_the_failure() -> None:
    known = {"email:ana@example.com": "c-ana"}
    assert decide([entry()], [review("r1", T0 - 59)], known)["k1"][0] == RECOVERED
    late = entry(ended_at=T0 + 30)  # the POST timed out after 30 s: the server may have created it late
    assert decide([late], [review("r1", T0 + 30 + SETTLE + 59)], known)["k1"][0] == RECOVERED


def test_a_review_claimed_by_another_entry_is_not_matched_again() -> None:
    claimed = {"url:https://files/r1"}
    assert (
        decide([entry()], [review("r1", T0 + 1)], {"email:ana@example.com": "c-ana"}, claimed)["k1"][0] == NOT_CREATED
    )


def test_v1_language_must_match() -> None:
    e = entry(language="en")
    assert decide([e], [review("r1", T0 + 1, client="x", language="es")])["k1"][0] == NOT_CREATED
    assert decide([e], [review("r1", T0 + 1, client="x", language="en")])["k1"][0] == UNCERTAIN


def test_competing_entries_each_get_one_review() -> None:
    a, b = entry("a", sent_at=T0), entry("b", sent_at=T0 + 2, client="email:bob@example.com")
    found = decide([a, b], [review("r2", T0 + 3, client="x2"), review("r1", T0 + 1, client="x1")])
    assert found == {"a": (UNCERTAIN, "r1"), "b": (UNCERTAIN, "r2")}


def test_fewer_reviews_than_competing_entries_is_ambiguous_for_the_whole_group() -> None:
    a, b = entry("a", sent_at=T0), entry("b", sent_at=T0 + 2, client="email:bob@example.com")
    far = entry("c", sent_at=T0 + 3600, client="email:cy@example.com")
    found = decide([a, b, far], [review("r1", T0 + 3, client="x1")])
    assert found == {"a": (AMBIGUOUS, None), "b": (AMBIGUOUS, None), "c": (NOT_CREATED, None)}


# ------------------------------------------------------------------------------------------- importer
class FakeWoku:
    """Creates voice reviews like Woku (stable client per email, a new one per anonymous review) and fails
    POSTs as scripted: `lost` (created, answer lost), `reset` (not created), an int status, or `ok`."""

    def __init__(self, ledger: MemoryLedger, clock: "FakeClock") -> None:
        self.ledger = ledger
        self.clock = clock
        self.script: List[Any] = []
        self.posts: List[Dict[str, Any]] = []
        self.reviews: Dict[str, List[Dict[str, Any]]] = {}
        self.clients: Dict[str, str] = {}
        self.review_reads = 0
        self._ids = itertools.count(1)

    def post(self, path: str, *, data: Dict[str, str], files: Dict[str, Any], idempotent: bool) -> Any:
        assert idempotent is False
        name, content, mime = files["file"]
        assert mime == "audio/wav" and content.startswith(b"RIFF")
        woku = data.get("wokuId") or path.split("/")[3]
        pending = [e for e in self.ledger.entries.values() if e.status == PENDING and e.woku_id == woku]
        assert pending, "the ledger must hold the pending entry before the POST"
        self.posts.append({"path": path, **data})
        self.clock.now += 0.5
        action = self.script.pop(0) if self.script else "ok"
        if action == 401:
            raise AuthError("the API rejected the configured Woku API key (HTTP 401)")
        if isinstance(action, int):
            body = {"statusCode": 400, "message": ["The woku is closed or has reviews disabled"], "error": "Bad"}
            raise ApiError(f"POST http://woku{path}: HTTP {action}", action, body=body)
        if action == "reset":
            raise ApiUnavailableError(f"POST http://woku{path} failed", detail="connection failed or reset")
        answer = self._create(woku, data)
        if action == "lost":
            raise ApiUnavailableError(f"POST http://woku{path} failed", detail="timeout")
        return answer

    def _create(self, woku: str, data: Dict[str, str]) -> Dict[str, Any]:
        n = next(self._ids)
        anonymous = data["anonymous"] == "true"
        email = (data.get("clientEmail") or "").lower()
        if anonymous:
            client = f"anon-{n}"
        else:
            client = self.clients.setdefault(email, f"client-{len(self.clients) + 1}")
        rec = review(
            f"r{n}", self.clock.now, client=client, qualification=int(data["qualification"]), anonymous=anonymous
        )
        rec["wokuId"] = woku
        self.reviews.setdefault(woku, []).insert(0, rec)
        return {
            "qualification": {"_id": f"q{n}", "qualification": rec["qualification"]},
            "wokuId": woku,
            "anonymous": anonymous,
            "transcription": "hola",
            "feedbackType": "recognition",
            "file": dict(rec["file"]),
            "clientId": client,
        }

    def pages_since(self, path: str, since: datetime) -> Any:
        self.review_reads += 1
        yield list(self.reviews.get(path.split("/")[3], []))

    def created(self, woku: str = WOKU) -> int:
        return len(self.reviews.get(woku, []))


class FakeClock:
    def __init__(self) -> None:
        self.now = T0
        self.slept: List[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def rig(tmp_path: Path) -> Any:
    class Rig:
        def __init__(self) -> None:
            self.clock = FakeClock()
            self.ledger = MemoryLedger()
            self.woku = FakeWoku(self.ledger, self.clock)

        def rows(self, n: int, emails: int = 2, anonymous_every: int = 0) -> List[Any]:
            out = []
            for i in range(n):
                (tmp_path / f"v{i}.wav").write_bytes(wav(i))
                anonymous = bool(anonymous_every) and i % anonymous_every == 0
                raw = {
                    "file": f"v{i}.wav",
                    "wokuId": WOKU,
                    "qualification": str(1 + i % 5),
                    "clientEmail": "" if anonymous else f"user{i % emails}@example.com",
                    "anonymous": "true" if anonymous else "",
                }
                out.append(validate_row(i + 1, raw, str(tmp_path)))
            return out

        def run(self, items: List[Any], **kw: Any) -> Any:
            importer = VoicemailImporter(
                self.woku, self.ledger, settle=SETTLE, clock=self.clock, sleep=self.clock.sleep, **kw
            )
            return importer.run(items)

    return Rig()


def statuses(report: Any) -> List[str]:
    return [o.status for o in report.outcomes]


def test_each_row_is_sent_once_and_a_rerun_sends_nothing(rig: Any) -> None:
    items = rig.rows(6)
    first = rig.run(items)
    assert statuses(first) == [ACCEPTED] * 6 and first.posts == 6 and first.all_imported()
    assert all(e.status == ACCEPTED and e.answer["transcription"] == "hola" for e in rig.ledger.entries.values())
    assert [s.status for s in rig.ledger.saves[:2]] == [PENDING, ACCEPTED]
    again = rig.run(items)
    assert statuses(again) == [SKIPPED] * 6 and again.posts == 0 and again.all_imported()
    assert rig.woku.created() == 6


def test_a_lost_answer_that_was_created_is_recovered_not_resent(rig: Any) -> None:
    items = rig.rows(6, emails=2)
    rig.woku.script = ["ok", "ok", "lost", "ok", "ok", "lost"]
    report = rig.run(items)
    assert report.posts == 6 and rig.woku.created() == 6
    # the clients of both emails were known from accepted answers: proven matches
    assert statuses(report) == [ACCEPTED, ACCEPTED, RECOVERED, ACCEPTED, ACCEPTED, RECOVERED]
    assert rig.clock.slept and rig.clock.slept[0] == pytest.approx(SETTLE, abs=0.01)
    recovered = rig.ledger.entries[items[2].key]
    assert recovered.review_id and recovered.client_id == "client-1" and recovered.answer["qualification"] == 3


def test_a_lost_answer_of_a_first_time_client_is_uncertain(rig: Any) -> None:
    items = rig.rows(1)
    rig.woku.script = ["lost"]
    report = rig.run(items)
    assert statuses(report) == [UNCERTAIN] and report.posts == 1 and report.all_imported()
    assert rig.run(items).posts == 0


def test_a_lost_answer_that_was_not_created_is_sent_once_more(rig: Any) -> None:
    items = rig.rows(3)
    rig.woku.script = ["ok", "reset", "ok", "ok"]
    report = rig.run(items)
    assert statuses(report) == [ACCEPTED] * 3 and report.posts == 4 and rig.woku.created() == 3
    assert rig.ledger.entries[items[1].key].attempts == 2


def test_lost_twice_and_not_created_waits_for_the_next_run(rig: Any) -> None:
    items = rig.rows(1)
    rig.woku.script = ["reset", "reset"]
    report = rig.run(items)
    assert statuses(report) == [FAILED] and report.posts == 2 and not report.all_imported()
    assert rig.ledger.entries[items[0].key].status == NOT_CREATED
    nxt = rig.run(items)
    assert statuses(nxt) == [ACCEPTED] and nxt.posts == 1 and rig.woku.created() == 1


def test_a_run_killed_mid_post_leaves_pending_and_the_next_run_checks_first(rig: Any) -> None:
    items = rig.rows(2)
    # what a SIGKILL after the pending save leaves: the POST reached Woku, nothing else was recorded
    vm = items[0]
    rig.ledger.save(entry(vm.key, client=vm.client, qualification=vm.qualification, sent_at=T0 - 1))
    rig.woku.reviews[WOKU] = [review("r-old", T0 - 0.5, client="client-9", qualification=vm.qualification)]
    report = rig.run(items)
    assert report.earlier == {UNCERTAIN: 1}
    assert statuses(report) == [UNCERTAIN, ACCEPTED] and report.posts == 1 and report.all_imported()
    assert "found among the woku's reviews" in report.outcomes[0].message
    assert rig.clock.slept == [pytest.approx(SETTLE - 1)]  # waited for the interrupted POST to settle


def test_a_pending_entry_absent_from_the_reviews_is_sent(rig: Any) -> None:
    items = rig.rows(1)
    vm = items[0]
    rig.ledger.save(entry(vm.key, client=vm.client, qualification=vm.qualification, sent_at=T0 - 100))
    report = rig.run(items)
    assert report.earlier == {NOT_CREATED: 1} and statuses(report) == [ACCEPTED] and rig.clock.slept == []


def test_unreadable_reviews_keep_the_entry_pending_and_unsent(rig: Any) -> None:
    items = rig.rows(1)
    vm = items[0]
    rig.ledger.save(entry(vm.key, client=vm.client, qualification=vm.qualification, sent_at=T0 - 100))

    def broken(path: str, since: datetime) -> Any:
        raise ApiUnavailableError("GET reviews failed", 503, detail="failed after 6 attempts: HTTP 503")
        yield  # pragma: no cover

    rig.woku.pages_since = broken
    report = rig.run(items)
    assert statuses(report) == [FAILED] and report.posts == 0
    assert rig.ledger.entries[vm.key].status == PENDING


def test_a_4xx_is_rejected_with_the_apis_reason_and_retried_by_a_later_run(rig: Any) -> None:
    items = rig.rows(1)
    rig.woku.script = [400]
    report = rig.run(items)
    (outcome,) = report.outcomes
    assert (outcome.status, outcome.http_status) == (REJECTED, 400)
    assert outcome.message == "HTTP 400: The woku is closed or has reviews disabled"
    assert rig.run(items).posts == 1


def test_a_bad_key_on_the_first_post_stops_the_run(rig: Any) -> None:
    items = rig.rows(2)
    rig.woku.script = [401]
    with pytest.raises(AuthError):
        rig.run(items)
    assert rig.ledger.entries[items[0].key].status == NOT_CREATED and len(rig.woku.posts) == 1


def test_a_key_revoked_mid_run_records_every_row(rig: Any) -> None:
    items = rig.rows(3)
    rig.woku.script = ["ok", 401]
    report = rig.run(items)
    assert statuses(report) == [ACCEPTED, FAILED, FAILED] and isinstance(report.aborted, AuthError)
    assert len(rig.woku.posts) == 2


def test_duplicate_rows_are_sent_once_and_count_as_their_first_row(rig: Any, tmp_path: Path) -> None:
    items = rig.rows(2)
    dup = validate_row(
        9, {"file": "v0.wav", "wokuId": WOKU, "qualification": "1", "clientEmail": "USER0@example.com"}, str(tmp_path)
    )
    report = rig.run([*items, dup])
    assert statuses(report) == [ACCEPTED, ACCEPTED, DUPLICATE] and report.posts == 2 and report.all_imported()
    assert "row 1" in report.outcomes[2].message


def test_invalid_rows_pass_through_and_make_the_run_incomplete(rig: Any, tmp_path: Path) -> None:
    bad = validate_row(5, {"file": "x.wav", "wokuId": "nope", "qualification": "4", "anonymous": "true"}, str(tmp_path))
    report = rig.run([*rig.rows(1), bad])
    assert statuses(report) == [ACCEPTED, INVALID] and not report.all_imported()


def test_consecutive_lost_answers_stop_sending(rig: Any) -> None:
    items = rig.rows(8)
    rig.woku.script = ["reset"] * 20
    report = rig.run(items, max_consecutive_lost=3)
    assert report.stopped and report.posts == 3  # no re-sends either once the API looks down
    assert statuses(report) == [FAILED] * 8 and rig.woku.created() == 0


def test_v1_route_sends_language_and_no_woku_field(rig: Any) -> None:
    rig.run(rig.rows(1), v1=True, language="en")
    (post,) = rig.woku.posts
    assert post["path"] == f"/v1/wokus/{WOKU}/voicemails" and post["language"] == "en" and "wokuId" not in post
    assert rig.ledger.entries[next(iter(rig.ledger.entries))].route == "v1"


def test_classic_route_fields(rig: Any) -> None:
    rig.run(rig.rows(1))
    (post,) = rig.woku.posts
    assert post == {
        "path": CLASSIC_PATH,
        "wokuId": WOKU,
        "qualification": "1",
        "clientEmail": "user0@example.com",
        "anonymous": "false",
    }
