"""The voicemail import: every send through the ledger, lost answers settled by the rule, over a fake Woku
client that records every POST, creates reviews like Woku, and runs on a fake clock (no real waits)."""

import itertools
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, List

import pytest

from pipelines.writeback.ledger import (
    ACCEPTED,
    NOT_CREATED,
    PENDING,
    RECOVERED,
    REJECTED,
    UNCERTAIN,
)
from pipelines.writeback.voicemail_rows import validate_row
from pipelines.writeback.voicemails import CLASSIC_PATH, DUPLICATE, FAILED, INVALID, SKIPPED, import_voicemails
from sources.http_kit import ApiError, ApiUnavailableError, AuthError
from tests.pipelines.writeback.voicemail_helpers import SETTLE, T0, WOKU, MemoryLedger, entry, review, wav
from tests.support.clock import FakeClock


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
        #: what the HTTP client saw last: the status of a create's answer
        self.api = SimpleNamespace(last_status=None)

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
        self.api.last_status = 200 if action == "ok200" else 201
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


@pytest.fixture
def rig(tmp_path: Path) -> Any:
    class Rig:
        def __init__(self) -> None:
            self.clock = FakeClock(T0)
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
            return import_voicemails(
                self.woku, self.ledger, items, settle=SETTLE, clock=self.clock, sleep=self.clock.sleep, **kw
            )

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


def test_each_save_is_stamped_with_the_clock_and_written_through(rig: Any) -> None:
    (vm,) = rig.rows(1)
    rig.run([vm])  # the POST takes 0.5 s on the fake clock
    assert [(s.status, s.updated_at) for s in rig.ledger.saves] == [(PENDING, T0), (ACCEPTED, T0 + 0.5)]
    assert rig.ledger.entries[vm.key] == rig.ledger.saves[-1]


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


def test_an_accepted_voicemail_records_the_status_the_api_answered(rig: Any) -> None:
    rig.woku.script = ["ok", "ok200"]
    report = rig.run(rig.rows(2))
    assert [(o.status, o.http_status) for o in report.outcomes] == [(ACCEPTED, 201), (ACCEPTED, 200)]


def test_a_key_refused_while_reading_reviews_after_the_sends_records_every_row(rig: Any) -> None:
    items = rig.rows(2)
    rig.woku.script = ["ok", "lost"]

    def refused(path: str, since: datetime) -> Any:
        raise AuthError("the API rejected the configured Woku API key (HTTP 401)")
        yield  # pragma: no cover

    rig.woku.pages_since = refused
    recorded: List[Any] = []
    report = rig.run(items, record=recorded.append)
    assert statuses(report) == [ACCEPTED, FAILED] and isinstance(report.aborted, AuthError)
    assert [o.status for o in recorded] == [ACCEPTED, FAILED], "every row's outcome reaches the journal"
    assert rig.ledger.entries[items[1].key].status == PENDING, "settled by the next run, never sent blind"
    assert len(rig.woku.posts) == 2
