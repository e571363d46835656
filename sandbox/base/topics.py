"""Survey comments written about known topics, so a theme clustering has a true answer to recover.

A comment is composed from an optional opener, one sentence that states its topic, an optional
detail of that topic and an optional closer, each a random variant of a phrasing template in
English, Spanish, French or Japanese: two comments of a topic rarely share a whole sentence.
Topics carry signal as real ones do: complaints come mostly from detractors and praise from
promoters, and in the span's last quarter a rising topic turns more and more respondents into
detractors, so NPS drops for a reason the ground truth knows. A ``Commenter`` draws from its own
RNG stream: the rest of a generated account stays as it was without comments.
"""

from __future__ import annotations

import random
import re
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from itertools import accumulate, product
from typing import NamedTuple

from sandbox.base.phrases import en, es, fr, ja

#: the topics both sandboxes write about; each adds the one its business has (see ``Commenter``)
COMMON: tuple[str, ...] = ("billing", "support_wait", "bugs", "onboarding", "pricing", "praise")
#: relative weight of each topic among detractors, passives and promoters (the extra topic: "rising")
_WEIGHTS: dict[str, tuple[int, int, int]] = {
    "billing": (16, 4, 2),
    "support_wait": (20, 5, 2),
    "bugs": (20, 5, 2),
    "onboarding": (16, 22, 16),
    "pricing": (18, 5, 2),
    "praise": (3, 30, 60),
    "rising": (12, 6, 3),
}
#: share of commented responses that carry one of the sandbox's hostile edge-case strings instead
EDGE_RATE = 0.1
#: at the span's end, this share of responses is a detractor complaining about the rising topic
RISE = 0.25
_BANKS = {"en": en, "es": es, "fr": fr, "ja": ja}
_SLOT = re.compile(r"\{([^}]*)\}")


class Comment(NamedTuple):
    """One generated comment as the sandbox's ground truth keeps it (``topic`` None: an edge case)."""

    id: int | str
    text: str
    topic: str | None
    language: str | None


def expand(template: str) -> tuple[str, ...]:
    """Every variant of a template: ``{a|b}`` is one of ``a``, ``b``."""
    parts = _SLOT.split(template)
    choices = [p.split("|") if i % 2 else [p] for i, p in enumerate(parts)]
    return tuple("".join(c) for c in product(*choices))


def _variants(templates: Sequence[str]) -> tuple[str, ...]:
    return tuple(v for t in templates for v in expand(t))


def _bank(module: object, topics: Sequence[str]) -> dict[str, tuple[tuple[str, ...], ...]]:
    """Per topic: (openers, core sentences, details, negative closers, positive closers), expanded."""
    core: Mapping[str, Sequence[str]] = module.CORE  # type: ignore[attr-defined]
    detail: Mapping[str, Sequence[str]] = module.DETAIL  # type: ignore[attr-defined]
    shared = [_variants(getattr(module, key)) for key in ("OPEN", "CLOSE_NEG", "CLOSE_POS")]
    return {t: (shared[0], _variants(core[t]), _variants(detail[t]), shared[1], shared[2]) for t in topics}


def sentiment(score: int, high: int) -> int:
    """0 detractor, 1 passive, 2 promoter, on a 0-10 (``high`` 10) or a 1-5 scale."""
    low_top, mid_top = (6, 8) if high == 10 else (2, 3)
    return 0 if score <= low_top else 1 if score <= mid_top else 2


def spoken(text: str) -> str:
    """What speech-to-text makes of a comment: lower case, no punctuation."""
    return " ".join(re.sub(r"[^\w\s']", " ", text).lower().split())


class Commenter:
    """Topic comments for one generated account, from its own seeded stream.

    ``rising`` is the sandbox's own topic (Wootric: performance, Woku: delivery), ``languages``
    the language mix, ``edge_cases`` the strings a small share of typed comments carry instead,
    ``start``/``span`` the generated span in the unit the caller's timestamps use.
    """

    def __init__(
        self,
        seed: int,
        rising: str,
        languages: Mapping[str, float],
        edge_cases: Sequence[str],
        start: float,
        span: float,
    ) -> None:
        self.rng = random.Random(f"comments-{seed}")
        self.rising = rising
        self.topics = (*COMMON, rising)
        self.edge_cases = tuple(edge_cases)
        self.start, self.span = start, span
        self._langs = tuple(languages)
        self._lang_cum = list(accumulate(languages.values()))
        self._lang_total = self._lang_cum[-1]
        self._rise_from = start + 0.75 * span
        weights = [_WEIGHTS["rising" if t == rising else t] for t in self.topics]
        self._topic_cum = [list(accumulate(w[s] for w in weights)) for s in range(3)]
        self._variants = {lang: _cached(lang, self.topics) for lang in self._langs}
        # one shared (topic, language) pair each: an account keeps one per comment without new objects
        self._labels = {(t, lang): (t, lang) for t in self.topics for lang in self._langs}

    def ramp(self, when: float) -> float:
        """0 before the span's last quarter, rising to 1 at its end (and after it)."""
        f = (when - self.start) / self.span if self.span else 1.0
        return min(max((f - 0.75) * 4, 0.0), 1.0)

    def score(self, score: int, high: int, when: float) -> tuple[int, bool]:
        """The response's score, or late in the span sometimes a detractor's; True: the rising topic's."""
        if when < self._rise_from:
            return score, False  # no draw: the first three quarters cost nothing
        rnd = self.rng.random
        if rnd() >= RISE * self.ramp(when):
            return score, False
        return (int(rnd() * 7) if high == 10 else 1 + int(rnd() * 2)), True

    def comment(
        self, u: float, score: int, high: int, rising: bool, *, typed: bool = True
    ) -> tuple[str, tuple[str, str] | None]:
        """(text, (topic, language)) of one comment; ``u`` in [0, 1) picks a hostile edge case (no
        topic) below ``EDGE_RATE`` when ``typed`` (the caller's own draw: it keeps its stream as it was).

        Written for speed (benchmarks generate 100k+ comments): a draw indexes a sequence directly."""
        if typed and u < EDGE_RATE and self.edge_cases:
            return self.edge_cases[int(u / EDGE_RATE * len(self.edge_cases))], None
        rnd = self.rng.random
        lang = self._langs[bisect_right(self._lang_cum, rnd() * self._lang_total)]
        mood = sentiment(score, high)
        cum = self._topic_cum[mood]
        topic = self.rising if rising else self.topics[bisect_right(cum, rnd() * cum[-1])]
        opener, core, detail, close_neg, close_pos = self._variants[lang][topic]
        seq = core
        text = seq[int(rnd() * len(seq))]
        if rnd() < 0.7:
            seq = detail
            extra = seq[int(rnd() * len(seq))]
            pair = (extra, text) if rnd() < 0.25 else (text, extra)
        else:
            pair = (text,)
        parts = [opener[int(rnd() * len(opener))], *pair] if rnd() < 0.35 else list(pair)
        if rnd() < 0.3:
            seq = close_neg if mood == 0 or (mood == 1 and topic != "praise") else close_pos
            parts.append(seq[int(rnd() * len(seq))])
        return ("" if lang == "ja" else " ").join(parts), self._labels[topic, lang]


_CACHE: dict[tuple[str, tuple[str, ...]], dict[str, tuple[tuple[str, ...], ...]]] = {}


def _cached(lang: str, topics: tuple[str, ...]) -> dict[str, tuple[tuple[str, ...], ...]]:
    """A language's expanded variants, built once per process (expanding costs a few milliseconds)."""
    key = (lang, topics)
    if key not in _CACHE:
        _CACHE[key] = _bank(_BANKS[lang], topics)
    return _CACHE[key]
