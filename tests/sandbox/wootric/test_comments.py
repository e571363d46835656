"""Comments written about known topics (``Account.comments()``): the ground truth the themes tests
and the report's "why NPS moved" check against, never served over HTTP."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import requests

from sandbox.wootric import Account, SandboxServer, generate_account
from sandbox.wootric.data import _EDGE_CASES, _TOPIC_TAGS
from tests.sandbox.topics import (
    assert_scores_follow_topics,
    assert_topics_and_languages,
    assert_varied,
    nps,
    rising_shares,
)


def test_every_comment_has_its_topic_and_language(account: Account) -> None:
    responses = account.truth("responses")
    comments = account.comments()
    assert [(c.id, c.text) for c in comments] == [(r["id"], r["text"]) for r in responses if r["text"]]
    texts = [r["text"] for r in responses]
    assert texts.count(None) > 300 and texts.count("") > 150  # responses without a comment keep none
    assert_topics_and_languages(comments, "performance", _EDGE_CASES)
    assert_varied(comments)
    assert (
        account.comments()
        == generate_account(
            7,
            end_users=300,
            responses=3000,
            declines=400,
            bursts=((120, "responses"), (60, "end_users"), (40, "declines")),
        ).comments()
    )
    assert [c.text for c in generate_account(8, responses=300).comments()][:20] != [c.text for c in comments][:20]


def test_topics_stay_out_of_the_api(account: Account, server: SandboxServer, api: requests.Session) -> None:
    r = api.get(f"{server.url}/v1/responses", params={"per_page": 50})
    assert r.status_code == 200, r.text
    served = r.json()
    truth = {rec["id"]: rec for rec in account.truth("responses", iso=True)}
    assert served and all(set(rec) == set(truth[rec["id"]]) for rec in served)
    assert '"topic"' not in r.text and '"topic"' not in json.dumps(list(truth.values()))


def test_scores_and_tags_follow_the_topics(account: Account) -> None:
    responses = {r["id"]: r for r in account.truth("responses")}
    comments = account.comments()
    assert_scores_follow_topics(comments, {i: (r["score"], 10) for i, r in responses.items()}, "performance")
    matched: Counter[bool] = Counter()
    for c in comments:
        tags = responses[c.id]["tags"]
        if c.topic in _TOPIC_TAGS and tags:
            matched[_TOPIC_TAGS[c.topic] in tags] += 1
    assert matched[True] > 4 * matched[False] and matched[False] > 0  # mostly, with noise


def test_performance_complaints_rise_and_nps_drops_in_the_last_quarter(account: Account) -> None:
    responses = {r["id"]: r for r in account.truth("responses")}
    late_from = account.start + timedelta(days=account.span_days * 0.75)
    comments = account.comments()
    early, late = rising_shares(
        comments,
        [responses[c.id]["score"] <= 6 for c in comments],
        [responses[c.id]["created_at"] >= late_from for c in comments],
        "performance",
    )
    assert early < 0.2 and late > 2 * early, (early, late)
    before = [r["score"] for r in responses.values() if r["created_at"] < late_from]
    after = [r["score"] for r in responses.values() if r["created_at"] >= late_from]
    assert nps(after) < nps(before) - 10, (nps(before), nps(after))


def test_added_responses_get_topics_and_edits_or_deletes_drop_them() -> None:
    acct = generate_account(3, end_users=20, responses=50, declines=5)
    added = acct.add_responses(60, at=datetime(2024, 6, 1, tzinfo=UTC))
    topics = {c.id: c.topic for c in acct.comments()}
    assert {r["id"] for r in added if r["text"]} <= set(topics)
    assert sum(topics[r["id"]] is not None for r in added if r["text"]) > 30
    edited, deleted = [rid for rid, t in topics.items() if t][:2]
    acct.update_responses([edited], text="Changed my mind.")
    acct.delete("responses", deleted)
    after = {c.id: c for c in acct.comments()}
    assert after[edited].topic is None and after[edited].text == "Changed my mind." and deleted not in after
