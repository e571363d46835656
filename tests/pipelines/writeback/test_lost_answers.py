"""The lost-answer rule: which review, if any, a voicemail whose answer was lost became."""

from typing import Any, Dict, List, Optional

import pytest

from pipelines.writeback.ledger import ACCEPTED, AMBIGUOUS, NOT_CREATED, PENDING, RECOVERED, UNCERTAIN, LedgerEntry
from pipelines.writeback.lost_answers import resolve
from sources.http_kit import ApiError
from tests.pipelines.writeback.voicemail_helpers import SETTLE, T0, WOKU, entry, review


def decide(
    entries: List[LedgerEntry], reviews: List[Dict[str, Any]], known: Optional[Dict[str, str]] = None, claimed=()
):
    """The rule for pending `entries`, the ledger also holding accepted entries that prove the `known`
    clients and claim the `claimed` file urls."""
    ledger = [*entries]
    ledger += [entry(f"k-{c}", client=c, status=ACCEPTED, client_id=i) for c, i in (known or {}).items()]
    ledger += [entry(f"c-{u}", status=ACCEPTED, file_url=u.removeprefix("url:")) for u in claimed]
    resolve(entries, {WOKU: reviews}, ledger, settle=SETTLE, skew=60.0)
    return {e.key: (e.status, e.review_id) for e in entries}


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


def test_unreadable_reviews_leave_the_entry_pending_unless_the_woku_is_gone() -> None:
    gone, down = ApiError("GET reviews: HTTP 404", 404), ApiError("GET reviews: HTTP 503", 503)
    for reviews, status in ((gone, NOT_CREATED), (down, PENDING)):
        pending = entry()
        resolve([pending], {WOKU: reviews}, [], settle=SETTLE)
        assert pending.status == status
