"""The tracker write-back over real HTTP: a Woku sandbox on 127.0.0.1 answers, so every status is the one the
client really saw (201 for an assignment, 404 for an unknown entity, 503 after the retries, ...)."""

from datetime import datetime, timezone
from typing import Any, Iterator, List, Tuple

import pytest

from pipelines.writeback.tracker_rows import ASSIGNED, FAILED, REJECTED, TrackerRow, validate_row
from pipelines.writeback.trackers import DEFINITIONS_PATH, create_definitions, idempotency_key, write_trackers
from sandbox.woku import WokuSandboxServer, generate_company
from sources.http_kit import AuthError, RetryPolicy, register_secret
from sources.woku.helpers.client import WokuClient

AT = datetime(2024, 5, 1, tzinfo=timezone.utc)
ATTEMPTS = 2
UNKNOWN = "0123456789abcdef01234567"


class Rig:
    """A sandbox, a client on it that never sleeps in real time, and the company's entities."""

    def __init__(self, server: WokuSandboxServer) -> None:
        self.server = server
        self.company = server.company
        self.slept: List[float] = []
        self.client = self.connect(server.api_key)
        self.nps = self.company.ids("nps_tools")
        self.active = next(d["name"] for d in self.company.truth("external_tracker_definitions") if d["active"])

    def connect(self, api_key: str) -> WokuClient:
        client = WokuClient(self.server.url, api_key, retry=RetryPolicy(max_attempts=ATTEMPTS), timeout=5.0)
        client.api.sleep = self.slept.append
        return client

    def row(self, n: int, entity_id: str, name: str = "", value: str = "TX-1") -> TrackerRow:
        checked = validate_row(
            n, {"entity_type": "nps", "entity_id": entity_id, "name": name or self.active, "value": value}
        )
        assert isinstance(checked, TrackerRow), checked
        return checked

    def path(self, entity_id: str) -> str:
        return f"/v1/external-trackers/nps/{entity_id}"

    def send(self, rows: List[TrackerRow], **kw: Any) -> Any:
        return write_trackers(self.client, rows, clock=lambda: AT, **kw)

    def requests(self) -> int:
        return self.server.stats()["requests"]


@pytest.fixture
def rig() -> Iterator[Rig]:
    company = generate_company(31, nps_responses=5, csat_responses=5, ces_responses=5, reviews=5, form_responses=5)
    with WokuSandboxServer(company) as server:
        rig = Rig(server)
        yield rig
        rig.client.close()


def outcomes(report: Any) -> List[Tuple[str, Any, Any]]:
    return [(r.status, r.http_status, r.message) for r in report.results]


def test_answers_become_assigned_rejected_or_failed(rig: Rig) -> None:
    a, c = rig.nps[0], rig.nps[1]
    rig.server.inject("503", rig.path(c), times=ATTEMPTS, method="POST")
    report = rig.send([rig.row(1, a), rig.row(2, UNKNOWN), rig.row(3, c)])
    assert outcomes(report) == [
        (ASSIGNED, 201, "created"),
        (REJECTED, 404, "HTTP 404: Entity not found"),
        (FAILED, 503, f"failed after {ATTEMPTS} attempts: HTTP 503"),
    ]
    assert (report.requests, report.retries) == (2 + ATTEMPTS, ATTEMPTS - 1)
    assert rig.slept and all(s < 60 for s in rig.slept)  # backoff asked for, never slept in real time


def test_an_upsert_of_an_existing_value_is_updated(rig: Rig) -> None:
    a = rig.nps[0]
    report = rig.send([rig.row(1, a, value="one"), rig.row(2, a, value="two")])
    assert outcomes(report) == [(ASSIGNED, 201, "created"), (ASSIGNED, 201, "updated")]
    (value,) = [v for v in rig.company.tracker_values("nps", a) if v["value"] == "two"]
    assert value


def test_the_apis_reason_is_kept(rig: Rig) -> None:
    (result,) = rig.send([rig.row(1, rig.nps[0], name="no-such-tracker")]).results
    assert (result.status, result.http_status, result.message) == (
        REJECTED,
        404,
        "HTTP 404: Tracker 'no-such-tracker' not found",
    )


def test_invalid_rows_pass_through_in_order_and_cost_nothing(rig: Rig) -> None:
    bad = validate_row(2, {"entity_type": "nps", "entity_id": "bad", "name": "trr", "value": "x"}, clock=lambda: AT)
    report = rig.send([rig.row(1, rig.nps[0]), bad, rig.row(3, rig.nps[1])])
    assert [(r.row_number, r.status) for r in report.results] == [(1, ASSIGNED), (2, REJECTED), (3, ASSIGNED)]
    assert report.results[1].http_status is None and rig.requests() == 2


def test_a_rejected_key_before_any_answer_stops_the_run(rig: Rig) -> None:
    with pytest.raises(AuthError):
        write_trackers(rig.connect("sk_live_wrong_key_0123"), [rig.row(1, rig.nps[0]), rig.row(2, rig.nps[1])])
    assert rig.requests() == 1


def test_a_key_rejected_mid_run_keeps_every_outcome(rig: Rig) -> None:
    a, b, c = rig.nps[:3]
    rig.server.inject("401", rig.path(b), method="POST")
    report = rig.send([rig.row(1, a), rig.row(2, b), rig.row(3, c)])
    assert [(r.status, r.http_status) for r in report.results] == [(ASSIGNED, 201), (FAILED, 401), (FAILED, None)]
    assert report.results[2].message.startswith("not sent: the API rejected the key")
    assert isinstance(report.aborted, AuthError) and rig.requests() == 2


def test_a_key_refused_after_rows_that_got_no_answer_keeps_their_outcomes(rig: Rig) -> None:
    a, b, c = rig.nps[:3]
    rig.server.inject("500", rig.path(a), times=ATTEMPTS, method="POST")
    rig.server.inject("401", rig.path(b), method="POST")
    report = rig.send([rig.row(1, a), rig.row(2, b), rig.row(3, c)])
    assert [(r.status, r.http_status) for r in report.results] == [(FAILED, 500), (FAILED, 401), (FAILED, None)]
    assert isinstance(report.aborted, AuthError)


def test_consecutive_failures_stop_sending(rig: Rig) -> None:
    rig.server.inject("reset", "/v1/external-trackers/nps/", times=100, method="POST")
    rows = [rig.row(n, rig.nps[n % len(rig.nps)]) for n in range(1, 7)]
    report = rig.send(rows, max_consecutive_failures=3)
    assert rig.requests() == 3 * ATTEMPTS
    assert [r.status for r in report.results] == [FAILED] * 6
    assert report.stopped and report.results[-1].message.startswith("not sent: the API failed 3 rows in a row")


def test_failures_on_the_last_row_do_not_count_as_stopping(rig: Rig) -> None:
    rig.server.inject("reset", "/v1/external-trackers/nps/", times=100, method="POST")
    rows = [rig.row(n, entity_id) for n, entity_id in enumerate(rig.nps[:3], 1)]
    report = rig.send(rows, max_consecutive_failures=3)
    assert report.stopped is None and [r.status for r in report.results] == [FAILED] * 3


def test_create_missing_creates_absent_names_once_with_their_key(rig: Rig) -> None:
    inactive = next(d["name"] for d in rig.company.truth("external_tracker_definitions") if not d["active"])
    a = rig.nps[0]
    rows = [rig.row(1, a, name="new"), rig.row(2, a), rig.row(3, rig.nps[1], name="new"), rig.row(4, a, name=inactive)]
    report = rig.send(rows, create_missing=True)
    assert report.created == ["new"] and rig.server.stats()["trackers_created"] == {"new": 1}
    assert [(r.status, r.http_status) for r in report.results] == [
        (ASSIGNED, 201),
        (ASSIGNED, 201),
        (ASSIGNED, 201),
        (REJECTED, 400),
    ]
    # a re-run's create of the same name replays the first answer instead of creating a second one
    again = create_definitions(rig.client, ["new"], lambda: AT)
    assert again == (["new"], {}) and rig.server.stats()["trackers_created"] == {"new": 1}
    assert idempotency_key("new") != idempotency_key("new ")


def test_a_409_on_create_means_the_name_exists(rig: Rig) -> None:
    assert create_definitions(rig.client, [rig.active], lambda: AT) == ([], {})


def test_rows_of_a_definition_that_could_not_be_created_are_not_sent(rig: Rig) -> None:
    rig.server.inject("500", DEFINITIONS_PATH, times=ATTEMPTS, method="POST")
    rows = [rig.row(1, rig.nps[0], name="new"), rig.row(2, rig.nps[1], name="new")]
    report = rig.send(rows, create_missing=True)
    assert [(r.status, r.http_status) for r in report.results] == [(FAILED, 500)] * 2
    assert (
        report.results[0].message
        == f"tracker definition 'new' could not be created: failed after {ATTEMPTS} attempts: HTTP 500"
    )
    assert rig.server.stats()["by_path"].get(f"POST {rig.path(rig.nps[0])}") is None


def test_the_key_is_scrubbed_from_anything_the_api_echoes(rig: Rig) -> None:
    register_secret("sk_live_echoed_1")
    (result,) = rig.send([rig.row(1, rig.nps[0], name="sk_live_echoed_1")]).results
    assert "sk_live_echoed_1" not in result.message and "***" in result.message
