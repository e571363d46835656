"""Comments written about known topics (``WokuCompany.comments(kind)``): text notes, voice-note
transcriptions and reviews, mostly in Spanish; the ground truth the themes tests check against,
never served over HTTP."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import requests

from sandbox.base.topics import sentiment
from sandbox.woku import WokuCompany, WokuSandboxServer, generate_company
from sandbox.woku.data import _EDGE_CASES, to_ms
from tests.sandbox.topics import (
    Scores,
    assert_scores_follow_topics,
    assert_topics_and_languages,
    assert_varied,
    nps,
    rising_shares,
)
from tests.sandbox.woku.support import GEN

KINDS = ("nps_responses", "csat_responses", "ces_responses", "woku_reviews")


def comment_text(kind: str, rec: dict) -> str | None:
    """As the warehouse's feedback_all takes it: a text note first, else the voice note's transcription."""
    if kind == "woku_reviews":
        return rec["description"] or rec["transcription"]
    return (rec["textnote"] or {}).get("description") or (rec["voicemail"] or {}).get("transcription")


def test_every_comment_has_its_topic_and_language(company: WokuCompany) -> None:
    everything = []
    for kind in KINDS:
        comments = company.comments(kind)
        want = [(r["_id"], comment_text(kind, r)) for r in company.truth(kind, iso=True)]
        assert [(c.id, c.text) for c in comments] == [w for w in want if w[1]], kind
        everything += comments
    assert_topics_and_languages(everything, "delivery", _EDGE_CASES)
    assert_varied(everything)
    spanish = sum(c.language == "es" for c in everything)
    assert spanish > 0.6 * len(everything)  # Woku's customers write mostly Spanish
    voiced = [c for c in company.comments("woku_reviews") if c.topic and c.text[-1].isalnum()]
    assert voiced and all(c.text == c.text.lower() for c in voiced)  # transcriptions: spoken, unpunctuated
    assert company.comments("nps_responses") == generate_company(11, **GEN).comments("nps_responses")  # type: ignore[arg-type]
    with pytest.raises(KeyError, match="has no comments"):
        company.comments("forms")


def test_topics_stay_out_of_the_api(company: WokuCompany, server: WokuSandboxServer, api: requests.Session) -> None:
    r = api.get(f"{server.url}/v1/nps", params={"limit": 50})
    assert r.status_code == 200, r.text
    assert '"topic"' not in r.text and '"topic"' not in json.dumps(company.truth("nps_responses", iso=True))


def scores(company: WokuCompany) -> Scores:
    """Every commented kind's (score, top of its scale) by record id."""
    out: Scores = {}
    for kind in KINDS:
        key = "qualification" if kind == "woku_reviews" else "score"
        high = 10 if kind == "nps_responses" else 5
        out.update({r["_id"]: (r[key], high) for r in company.truth(kind, iso=True)})
    return out


def test_scores_follow_the_topics(company: WokuCompany) -> None:
    assert_scores_follow_topics([c for kind in KINDS for c in company.comments(kind)], scores(company), "delivery")


def test_delivery_complaints_rise_and_nps_drops_in_the_last_quarter(company: WokuCompany) -> None:
    late_from = to_ms(company.start + timedelta(days=company.span_days * 0.75))
    created = {r["_id"]: to_ms(r["createdAt"]) for kind in KINDS for r in company.truth(kind, iso=True)}
    detractor = {rid: sentiment(*score) == 0 for rid, score in scores(company).items()}
    comments = [c for kind in KINDS for c in company.comments(kind)]
    early, late = rising_shares(
        comments, [detractor[c.id] for c in comments], [created[c.id] >= late_from for c in comments], "delivery"
    )
    assert early < 0.2 and late > 2 * early, (early, late)
    nps_recs = company.truth("nps_responses", iso=True)
    before = [r["score"] for r in nps_recs if to_ms(r["createdAt"]) < late_from]
    after = [r["score"] for r in nps_recs if to_ms(r["createdAt"]) >= late_from]
    assert nps(after) < nps(before) - 10, (nps(before), nps(after))


def test_added_records_get_topics_and_edits_or_deletes_drop_them() -> None:
    co = generate_company(5, nps_responses=20, csat_responses=5, ces_responses=5, reviews=10)
    added = co.add_reviews(40, at="2025-06-01T00:00:00Z")
    topics = {c.id: c.topic for c in co.comments("woku_reviews")}
    assert {r["_id"] for r in added} <= set(topics) and sum(topics[r["_id"]] is not None for r in added) > 30
    edited, deleted = [rid for rid, t in topics.items() if t][:2]
    co.update_records("woku_reviews", [edited], description="Cambié de opinión.", transcription=None)
    co.delete_records("woku_reviews", [deleted])
    after = {c.id: c for c in co.comments("woku_reviews")}
    assert after[edited].topic is None and after[edited].text == "Cambié de opinión." and deleted not in after
