"""What both sandboxes' topic comments must show, checked by tests/sandbox/*/test_comments.py: a
theme clustering, the `themes` command and the report's "why NPS moved" are tested against them."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence

from sandbox.base.topics import COMMON, Comment, sentiment

COMPLAINTS = ("billing", "support_wait", "bugs", "pricing")
_SENTENCE = re.compile(r"(?<=[.!?\u3002])\s*")


def assert_topics_and_languages(comments: Sequence[Comment], rising: str, edge_cases: Sequence[str]) -> None:
    """Every topic in every language; the edge cases (and only they, here) without a topic, at a small rate."""
    langs: dict[str | None, set[str | None]] = defaultdict(set)
    for c in comments:
        langs[c.topic].add(c.language)
    assert set(langs) == {*COMMON, rising, None}
    for topic in (*COMMON, rising):
        assert langs[topic] == {"en", "es", "fr", "ja"}, topic
    edge = [c.text for c in comments if c.topic is None]
    assert langs[None] == {None} and set(edge) == set(edge_cases)
    assert 0.05 < len(edge) / len(comments) < 0.15


def assert_varied(comments: Sequence[Comment]) -> None:
    """A clustering must work for it: within a topic, texts are nearly all distinct and no sentence is common."""
    by_topic: dict[str, list[str]] = defaultdict(list)
    for c in comments:
        if c.topic:
            by_topic[c.topic].append(c.text)
    for topic, texts in by_topic.items():
        assert len(set(texts)) > 0.9 * len(texts), topic
        sentences = Counter(s for t in texts for s in set(_SENTENCE.split(t)) if s)
        sentence, n = sentences.most_common(1)[0]
        assert n < max(0.05 * len(texts), 3), (topic, sentence, n, len(texts))


Scores = dict[object, tuple[int, int]]  # record id -> (score, top of its scale: 10 or 5)


def assert_scores_follow_topics(comments: Sequence[Comment], scores: Scores, rising: str) -> None:
    """Complaints mostly from detractors, praise mostly from promoters, onboarding from both."""
    moods: dict[str, Counter[int]] = defaultdict(Counter)
    for c in comments:
        if c.topic:
            moods[c.topic][sentiment(*scores[c.id])] += 1

    def share(topic: str, mood: int) -> float:
        return moods[topic][mood] / sum(moods[topic].values())

    for topic in (*COMPLAINTS, rising):
        assert share(topic, 0) > 0.5, (topic, moods[topic])
        assert share("praise", 2) > 2 * share(topic, 2), (topic, moods[topic], moods["praise"])
    assert share("praise", 2) > 0.5 and share("praise", 0) < 0.15, moods["praise"]
    assert share("onboarding", 0) > 0.08 and share("onboarding", 2) > 0.3, moods["onboarding"]


def rising_shares(
    comments: Sequence[Comment], detractor: Sequence[bool], late: Sequence[bool], rising: str
) -> tuple[float, float]:
    """The rising topic's share of detractors' topic comments before and in the span's last quarter."""
    counts = {False: Counter[bool](), True: Counter[bool]()}
    for c, is_detractor, is_late in zip(comments, detractor, late, strict=True):
        if c.topic and is_detractor:
            counts[is_late][c.topic == rising] += 1
    return tuple(counts[k][True] / sum(counts[k].values()) for k in (False, True))  # type: ignore[return-value]


def nps(scores: Sequence[int]) -> float:
    return 100 * (sum(s >= 9 for s in scores) - sum(s <= 6 for s in scores)) / len(scores)
