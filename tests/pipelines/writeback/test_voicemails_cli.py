"""End to end: `woku_pipeline.py voicemails` over loopback HTTP against the Woku sandbox, into real DuckDB and
PostgreSQL. Every valid manifest row must exist exactly once on the sandbox (its permanent voicemail log),
whatever was killed or lost on the way."""

import csv
import hashlib
import signal
import struct
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import psycopg2

from sandbox.woku import generate_company
from tests.conftest import only_on, run_cli, start_cli, woku_env
from tests.support.hold import HeldCall
from tests.support.warehouse import PG_DSN

SCRIPT = "woku_pipeline.py"
HEADER = ["file", "wokuId", "qualification", "clientEmail", "clientPhone", "anonymous"]
POST_CLASSIC = "POST /wokus/create-voicemail"
#: a short read timeout keeps the lost-answer waits (settle = read timeout) short
TIMEOUT = "3"


def wav(seed: int) -> bytes:
    """A tiny valid WAV whose samples depend on `seed`: distinct content, distinct sha256."""
    data = struct.pack("<Q", seed) * 64
    fmt = struct.pack("<IHHIIHH", 16, 1, 1, 8000, 8000, 1, 8)
    return (
        b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt " + fmt + b"data" + struct.pack("<I", len(data)) + data
    )


def company(seed: int) -> Any:
    return generate_company(
        seed, nps_responses=20, csat_responses=10, ces_responses=10, reviews=60, form_responses=10, closed_wokus=1
    )


def open_wokus(co: Any) -> List[str]:
    return [w["_id"] for w in co.truth("wokus") if not w["closed"]]


def valid_rows(workdir: Path, co: Any, n: int, seed: int = 0, customers: int = 8) -> List[Dict[str, str]]:
    """`n` rows over the open wokus: 8 recurring customers, every 10th row anonymous, each with its own audio."""
    (workdir / "audio").mkdir(exist_ok=True)
    wokus = open_wokus(co)
    rows = []
    for i in range(n):
        content = wav(seed * 10_000 + i)
        name = f"audio/vm-{seed}-{i:03d}.wav"
        (workdir / name).write_bytes(content)
        anonymous = i % 10 == 9
        email = "" if anonymous else f"Customer{i % customers}@Example.com"
        rows.append(
            {
                "file": name,
                "wokuId": wokus[i % len(wokus)],
                "qualification": str(1 + i % 5),
                "clientEmail": email,
                "clientPhone": "56982959776" if i % 3 == 0 else "",
                "anonymous": "true" if anonymous else ("false" if i % 2 else ""),
                "sha256": hashlib.sha256(content).hexdigest(),
            }
        )
    return rows


def invalid_rows(workdir: Path, co: Any) -> List[Tuple[Dict[str, str], str]]:
    """Rows the import must refuse before sending, each with a fragment of its reason."""
    woku = open_wokus(co)[0]
    (workdir / "audio").mkdir(exist_ok=True)
    (workdir / "audio" / "ok.wav").write_bytes(wav(999_999))
    (workdir / "audio" / "notes.txt").write_text("not audio")
    (workdir / "audio" / "fake.wav").write_text("a text file wearing a .wav name")
    base = {"file": "audio/ok.wav", "wokuId": woku, "qualification": "4", "clientEmail": "x@example.com"}
    cases = [
        ({"wokuId": "not-an-object-id"}, "is not a 24-hex ObjectId"),
        ({"qualification": "0"}, "qualification '0' is not an integer from 1 to 5"),
        ({"qualification": "6"}, "qualification '6' is not an integer from 1 to 5"),
        ({"qualification": "4.5"}, "qualification '4.5' is not an integer from 1 to 5"),
        ({"clientEmail": "", "anonymous": ""}, "clientEmail is required unless anonymous is true"),
        ({"file": "audio/notes.txt"}, "is not audio: extension '.txt'"),
        ({"file": "audio/fake.wav"}, "is not WAV audio (its content is not audio)"),
        ({"file": "audio/missing.wav"}, "'audio/missing.wav' does not exist"),
    ]
    return [({**base, "clientPhone": "", "anonymous": "", **change}, why) for change, why in cases]


def write_manifest(workdir: Path, rows: List[Dict[str, str]], name: str = "manifest.csv") -> Path:
    path = workdir / name
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for r in rows:
            writer.writerow([r.get(c, "") for c in HEADER])
    return path


def key(r: Dict[str, str]) -> str:
    client = "anonymous" if r["anonymous"] == "true" else f"email:{r['clientEmail'].lower()}"
    return f"{r['wokuId']}:{r['sha256']}:{client}"


def voicemails(args: List[str], manifest: Path, warehouse: Any, workdir: Path, env: Dict[str, str]) -> Any:
    return run_cli(["voicemails", "--manifest", str(manifest), *warehouse.args, *args], workdir, env, script=SCRIPT)


def posts(server: Any, prefix: str = POST_CLASSIC) -> int:
    return sum(n for path, n in server.stats()["by_path"].items() if path.startswith(prefix))


def assert_each_created_once(co: Any, rows: List[Dict[str, str]]) -> None:
    for r in rows:
        created = co.voicemails_for(r["wokuId"], r["sha256"])
        assert len(created) == 1, f"{r['file']}: created {len(created)} times on the sandbox"
    assert len(co.voicemails_for()) == len(rows), "voicemails the manifest does not hold were created"


def assert_voicemails_table_matches(co: Any, rows: List[Dict[str, str]], landed: List[Dict[str, Any]]) -> None:
    """Each landed answer is the API's record of that file: same review file, text, client and score."""
    reviews = {r["_id"]: r for r in co.truth("woku_reviews")}
    by_key = {row["ledger_key"]: row for row in landed}
    assert len(by_key) == len(landed), "a ledger key landed twice in voicemails"
    assert set(by_key) == {key(r) for r in rows}
    for r in rows:
        (log,) = co.voicemails_for(r["wokuId"], r["sha256"])
        review = reviews[log["reviewId"]]
        got = by_key[key(r)]
        assert got["file_url"] == review["file"]["url"], r["file"]
        assert got["file_filename"] == review["file"]["filename"]
        assert got["transcription"] == review["transcription"]
        assert got["feedback_type"] == review["feedbackType"]
        assert got["client_id"] == log["clientId"] == review["clientId"]
        assert got["qualification"] == int(r["qualification"]) == review["qualification"]
        assert got["woku_id"] == r["wokuId"]
        assert bool(got["anonymous"]) == (r["anonymous"] == "true")
        assert got["manifest_file"] == r["file"] and got["sha256"] == r["sha256"]
        assert got["status"] in ("accepted", "recovered", "uncertain")


def latest_results(warehouse: Any) -> Dict[int, Dict[str, Any]]:
    rows = warehouse.read("voicemail_results")
    last = max(r["run_at"] for r in rows)
    latest = [r for r in rows if r["run_at"] == last]
    assert len({r["row_number"] for r in latest}) == len(latest)
    return {r["row_number"]: r for r in latest}


def fault_schedule(faults: List[Tuple[str, int, int, Any]], requests: int) -> Dict[int, str]:
    """Which of the first `requests` matching requests each queued fault hits, as the sandbox applies them:
    queue order, each fault counting only the requests that reach it, gone once used `times` times."""
    seen = [0] * len(faults)
    left = [times for _, _, times, _ in faults]
    hit: Dict[int, str] = {}
    for n in range(1, requests + 1):
        for i, (kind, every, _, _) in enumerate(faults):
            if left[i] <= 0:
                continue
            seen[i] += 1
            if seen[i] % every:
                continue
            left[i] -= 1
            hit[n] = kind
            break
    assert not any(left), "every fault must be used up by the first sends, so the re-sends pass"
    return hit


# ------------------------------------------------------------------------------------------------ tests
def test_import_creates_each_valid_row_once_and_a_rerun_sends_nothing(workdir: Path, woku_warehouse, start_woku):
    co = company(21)
    server = start_woku(co)
    env = woku_env(server, SOURCES__WOKU__REQUEST_TIMEOUT=TIMEOUT)
    good = valid_rows(workdir, co, 60)
    bad = invalid_rows(workdir, co)
    manifest = write_manifest(workdir, good[:30] + [r for r, _ in bad] + good[30:])

    done = voicemails([], manifest, woku_warehouse, workdir, env)
    assert done.returncode == 6, done.stderr  # the invalid rows
    assert "voicemails: 68 rows: 60 accepted, 8 invalid (60 POSTs)" in done.stdout, done.stdout
    assert posts(server) == 60
    assert_each_created_once(co, good)
    assert_voicemails_table_matches(co, good, woku_warehouse.read("voicemails"))
    results = latest_results(woku_warehouse)
    assert len(results) == 68
    for n, (_, why) in enumerate(bad, start=31):
        assert results[n]["status"] == "invalid" and why in results[n]["message"], results[n]
    assert sum(r["status"] == "accepted" and r["http_status"] == 201 for r in results.values()) == 60
    ledger = woku_warehouse.read("voicemail_ledger")
    assert sorted(r["status"] for r in ledger) == ["accepted"] * 60 and {r["attempts"] for r in ledger} == {1}

    server.reset_stats()
    again = voicemails([], manifest, woku_warehouse, workdir, env)
    assert again.returncode == 6, again.stderr
    assert "68 rows: 60 skipped, 8 invalid (0 POSTs)" in again.stdout
    assert posts(server) == 0 and server.stats()["voicemails_created"] == {}
    assert_each_created_once(co, good)
    assert [r["status"] for r in latest_results(woku_warehouse).values()].count("skipped") == 60
    assert len(woku_warehouse.read("voicemails")) == 60


def test_killed_import_then_rerun_submits_every_row_exactly_once(workdir: Path, woku_warehouse, start_woku):
    co = company(22)
    server = start_woku(co)
    env = woku_env(server, SOURCES__WOKU__REQUEST_TIMEOUT=TIMEOUT)
    good = valid_rows(workdir, co, 60, seed=1)
    manifest = write_manifest(workdir, good)
    # the 21st POST is held on the server BEFORE creating: the client is killed while it waits, then the
    # voicemail is created after the client died, and nothing but the ledger's `pending` row says it was sent
    hold = HeldCall(co, "create_voicemail", at=21)

    proc = start_cli(["voicemails", "--manifest", str(manifest), *woku_warehouse.args], workdir, env, script=SCRIPT)
    try:
        assert hold.entered.wait(120), "the import never reached the 21st POST"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        hold.release.set()
    assert proc.returncode == -signal.SIGKILL
    posts_before = posts(server)
    assert hold.done.wait(30)  # the held POST completes on the server
    created_at_kill = len(co.voicemails_for())
    assert posts_before == created_at_kill == 21

    done = voicemails([], manifest, woku_warehouse, workdir, env)
    assert done.returncode == 0, done.stdout + done.stderr
    posts_total = posts(server)
    print(
        f"\nkilled-and-re-run ({woku_warehouse.name}): rows 60, POSTs before the kill {posts_before},"
        f" created at the kill {created_at_kill}, POSTs of the re-run {posts_total - posts_before},"
        f" POSTs in all {posts_total}; {done.stdout.strip()}"
    )
    assert_each_created_once(co, good)
    assert posts_total == 60, "a row was POSTed twice"
    assert "unanswered sends of an earlier run: 1 " in done.stdout, done.stdout
    results = latest_results(woku_warehouse)
    skipped = sum(r["status"] == "skipped" for r in results.values())
    found = [r for r in results.values() if r["status"] in ("recovered", "uncertain")]
    assert len(found) == 1 and found[0]["attempts"] == 1  # the killed POST: found, not sent again
    assert skipped == created_at_kill - 1 and len(results) == 60
    assert_voicemails_table_matches(co, good, woku_warehouse.read("voicemails"))


@only_on("postgres", "woku_warehouse")
def test_lost_answers_are_found_among_the_reviews_not_sent_again(workdir: Path, woku_warehouse, start_woku):
    co = company(23)
    server = start_woku(co)
    env = woku_env(server, SOURCES__WOKU__REQUEST_TIMEOUT=TIMEOUT)
    good = valid_rows(workdir, co, 30, seed=2, customers=6)
    manifest = write_manifest(workdir, good)
    path = "/wokus/create-voicemail"
    faults = [
        ("lost_answer", 5, 4, None),  # created, then the connection is reset without an answer
        ("reset", 7, 2, None),  # never reached the handler: not created
        ("lost_answer", 4, 1, 4.0),  # created; the client's 3 s read timeout fires first
        ("503", 4, 1, None),  # answered before creating
    ]
    for kind, every, times, seconds in faults:
        server.inject(kind, path, times=times, every=every, seconds=seconds, method="POST")
    hit = fault_schedule(faults, requests=30)
    lost = sorted(n for n, kind in hit.items() if kind == "lost_answer")
    not_created = sorted(n for n, kind in hit.items() if kind in ("reset", "503"))
    assert len(lost) == 5 and len(not_created) == 3

    done = voicemails([], manifest, woku_warehouse, workdir, env)
    assert done.returncode == 0, done.stdout + done.stderr
    stats = server.stats()
    assert stats["lost_answers"] == 5 and stats["faults"]["reset"] == 2 and stats["faults"]["503"] == 1
    # 30 rows, plus one more send for each of the 3 that were not created; none for the 5 lost answers
    assert posts(server) == 33
    assert_each_created_once(co, good)
    results = latest_results(woku_warehouse)
    found = sorted(n for n, r in results.items() if r["status"] in ("recovered", "uncertain"))
    assert found == lost, results
    resent = sorted(n for n, r in results.items() if r["attempts"] == 2)
    assert resent == not_created and all(results[n]["status"] == "accepted" for n in resent)
    assert all(results[n]["status"] == "accepted" and results[n]["attempts"] == 1 for n in set(results) - set(hit))
    assert_voicemails_table_matches(co, good, woku_warehouse.read("voicemails"))
    ledger = {r["ledger_key"]: r for r in woku_warehouse.read("voicemail_ledger")}
    assert all(ledger[key(good[n - 1])]["review_id"] for n in lost)

    server.reset_stats()
    again = voicemails([], manifest, woku_warehouse, workdir, env)
    assert again.returncode == 0 and posts(server) == 0, again.stdout


@only_on("duckdb", "woku_warehouse")
def test_v1_route_and_api_rejections(workdir: Path, woku_warehouse, start_woku):
    co = company(24)
    server = start_woku(co)
    env = woku_env(server, SOURCES__WOKU__REQUEST_TIMEOUT=TIMEOUT)
    good = valid_rows(workdir, co, 6, seed=3)
    closed = next(w["_id"] for w in co.truth("wokus") if w["closed"])
    template = dict(good[0])
    rejected = [
        {**template, "wokuId": closed},  # 400: the woku is closed
        {**template, "wokuId": "0123456789abcdef01234567"},  # 404: no such woku
        {**template, "wokuId": co.foreign_ids["wokus"][0]},  # 403: another company's woku
    ]
    manifest = write_manifest(workdir, good + rejected)

    done = voicemails(["--v1", "--language", "en"], manifest, woku_warehouse, workdir, env)
    assert done.returncode == 6, done.stderr
    assert "9 rows: 6 accepted, 3 rejected (9 POSTs)" in done.stdout
    assert posts(server, "POST /v1/wokus/") == 9 and posts(server) == 0
    assert_each_created_once(co, good)
    reviews = {r["_id"]: r for r in co.truth("woku_reviews")}
    assert {reviews[v["reviewId"]]["language"] for v in co.voicemails_for()} == {"en"}
    results = latest_results(woku_warehouse)
    assert [(results[n]["status"], results[n]["http_status"]) for n in (7, 8, 9)] == [
        ("rejected", 400),
        ("rejected", 404),
        ("rejected", 403),
    ]
    assert "closed" in results[7]["message"] and "HTTP 400" in results[7]["message"]
    landed = woku_warehouse.read("voicemails")
    assert_voicemails_table_matches(co, good, landed)
    assert {r["route"] for r in landed} == {"v1"}
    assert "3 rejected" in done.stdout and "row 7: rejected: HTTP 400" in done.stderr

    bad_language = voicemails(["--v1", "--language", "fr"], manifest, woku_warehouse, workdir, env)
    assert bad_language.returncode == 2 and "--language 'fr'" in bad_language.stderr


@only_on("duckdb", "woku_warehouse")
def test_bad_key_is_one_line_and_sends_nothing_twice(workdir: Path, woku_warehouse, start_woku):
    co = company(25)
    server = start_woku(co)
    secret = "sk_live_this_key_is_wrong_0123456789"
    env = woku_env(server, SOURCES__WOKU__CREDENTIALS__API_KEY=secret)
    manifest = write_manifest(workdir, valid_rows(workdir, co, 5, seed=4))

    done = voicemails([], manifest, woku_warehouse, workdir, env)
    assert done.returncode == 3, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "rejected" in lines[0], done.stderr
    assert secret not in done.stdout + done.stderr
    assert posts(server) == 1 and co.voicemails_for() == []
    (entry,) = woku_warehouse.read("voicemail_ledger")
    assert entry["status"] == "not_created" and entry["http_status"] == 401


@only_on("duckdb", "woku_warehouse")
def test_dry_run_sends_and_writes_nothing(workdir: Path, woku_warehouse, start_woku):
    co = company(26)
    server = start_woku(co)
    env = woku_env(server)
    good = valid_rows(workdir, co, 4, seed=5)
    bad = invalid_rows(workdir, co)[:2]
    manifest = write_manifest(workdir, good + [r for r, _ in bad])

    done = voicemails(["--dry-run"], manifest, woku_warehouse, workdir, env)
    assert done.returncode == 6, done.stderr
    assert "6 rows: 4 to send, 0 already imported, 2 invalid; nothing sent, nothing written" in done.stdout
    assert done.stdout.count("would POST /wokus/create-voicemail") == 4
    assert server.stats()["requests"] == 0
    assert not (workdir / "feedback.duckdb").exists()
    if woku_warehouse.name == "postgres":
        assert _schema_exists(woku_warehouse.args[-1]) is False

    imported = voicemails([], write_manifest(workdir, good, "good.csv"), woku_warehouse, workdir, env)
    assert imported.returncode == 0, imported.stderr
    server.reset_stats()
    again = voicemails(["--dry-run"], manifest, woku_warehouse, workdir, env)
    assert again.stdout.count("skip: already accepted") == 4 and server.stats()["requests"] == 0


def _schema_exists(name: str) -> Optional[bool]:
    with psycopg2.connect(PG_DSN) as con, con.cursor() as cur:
        cur.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", (name,))
        return cur.fetchone() is not None
