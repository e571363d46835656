"""End to end: input that tries to escape the write-back's checks, over loopback HTTP against the Woku
sandbox, into real DuckDB and PostgreSQL. A file outside the manifest's folder, a file that only starts like
audio, a CSV quote left open, a control character in a field: each is refused with one line, the rest goes on,
and the sandbox receives exactly the rows that passed."""

import hashlib
import os
from pathlib import Path
from typing import Any, Dict, List, Sequence

from tests.conftest import only_on, run_cli, woku_env
from tests.pipelines.writeback.audio_samples import IMPOSTORS, SAMPLES, wav
from tests.pipelines.writeback.test_trackers_cli import (
    RESULTS,
    assert_one_error_line,
    entities,
    nothing_written,
    small_company,
)
from tests.pipelines.writeback.test_trackers_cli import summary as tracker_summary
from tests.pipelines.writeback.test_voicemails_cli import HEADER, TIMEOUT, company, latest_results, open_wokus, posts

SCRIPT = "woku_pipeline.py"


def manifest_text(rows: Sequence[Sequence[str]]) -> str:
    """Rows written by hand (not csv.writer): a test must control every byte, NULs and quotes included."""
    return "\n".join([",".join(HEADER), *(",".join(r) for r in rows)]) + "\n"


def voicemails(args: List[str], manifest: Path, warehouse: Any, workdir: Path, env: Dict[str, str]) -> Any:
    return run_cli(["voicemails", "--manifest", str(manifest), *warehouse.args, *args], workdir, env, script=SCRIPT)


def received(co: Any) -> Dict[str, int]:
    """sha256 -> how many voicemails of that content the sandbox created."""
    counts: Dict[str, int] = {}
    for log in co.voicemails_for():
        counts[log["sha256"]] = counts.get(log["sha256"], 0) + 1
    return counts


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def outcomes(warehouse: Any) -> Dict[int, tuple]:
    return {n: (r["status"], r["message"]) for n, r in latest_results(warehouse).items()}


# ---------------------------------------------------------------------------------------------- case 1
@only_on("duckdb", "woku_warehouse")
def test_files_outside_the_manifest_folder_are_refused_unless_allowed(workdir: Path, woku_warehouse, start_woku):
    co = company(31)
    server = start_woku(co)
    env = woku_env(server, SOURCES__WOKU__REQUEST_TIMEOUT=TIMEOUT)
    woku = open_wokus(co)[0]
    batch = workdir / "batch"
    (batch / "audio").mkdir(parents=True)
    files = {name: wav(i) for i, name in enumerate(["ok", "secret", "absolute", "linked", "target", "dotted"])}
    for name in ("ok", "target", "dotted"):
        (batch / "audio" / f"{name}.wav").write_bytes(files[name])
    for name in ("secret", "absolute", "linked"):
        (workdir / f"{name}.wav").write_bytes(files[name])
    os.symlink(workdir / "linked.wav", batch / "audio" / "link.wav")  # points out of the folder
    os.symlink(batch / "audio" / "target.wav", batch / "audio" / "inner.wav")  # stays inside
    names = ["audio/ok.wav", "../secret.wav", str(workdir / "absolute.wav"), "audio/link.wav"]
    names += ["audio/inner.wav", "audio/../audio/dotted.wav"]
    rows = [[name, woku, "4", f"c{i}@example.com", "", ""] for i, name in enumerate(names)]
    manifest = batch / "manifest.csv"
    manifest.write_text(manifest_text(rows), encoding="utf-8")

    done = voicemails([], manifest, woku_warehouse, workdir, env)

    assert done.returncode == 6, done.stderr
    assert "Traceback" not in done.stderr
    assert "voicemails: 6 rows: 3 accepted, 3 invalid (3 POSTs)" in done.stdout, done.stdout
    folder = repr(str(batch.resolve()))
    got = outcomes(woku_warehouse)
    assert {n: s for n, (s, _) in got.items()} == {
        1: "accepted",
        2: "invalid",
        3: "invalid",
        4: "invalid",
        5: "accepted",
        6: "accepted",
    }
    for n in (2, 3, 4):
        assert got[n][1] == (
            f"file {names[n - 1]!r} resolves outside the manifest's folder {folder} (--allow-outside-files allows it)"
        ), got[n]
    assert received(co) == {sha(files["ok"]): 1, sha(files["target"]): 1, sha(files["dotted"]): 1}
    assert all("\n" not in line for line in done.stderr.splitlines())

    allowed = voicemails(["--allow-outside-files"], manifest, woku_warehouse, workdir, env)

    assert allowed.returncode == 0, allowed.stderr
    assert "6 rows: 3 accepted, 3 skipped (3 POSTs)" in allowed.stdout, allowed.stdout
    assert received(co) == {sha(content): 1 for content in files.values()}
    assert posts(server) == 6


# ---------------------------------------------------------------------------------------------- case 2
@only_on("postgres", "woku_warehouse")
def test_only_files_that_hold_audio_are_sent(workdir: Path, woku_warehouse, start_woku):
    co = company(32)
    server = start_woku(co)
    env = woku_env(server, SOURCES__WOKU__REQUEST_TIMEOUT=TIMEOUT)
    woku = open_wokus(co)[0]
    real = {f"real.{ext}": make(40 + i) for i, (ext, make) in enumerate(SAMPLES.items())}
    fake = {name: content for name, content, _ in IMPOSTORS}
    for name, content in {**real, **fake}.items():
        (workdir / name).write_bytes(content)
    names = [n for pair in zip(real, fake, strict=True) for n in pair]  # interleaved: a refusal stops nothing
    manifest = workdir / "manifest.csv"
    manifest.write_text(manifest_text([[n, woku, "5", "", "", "true"] for n in names]), encoding="utf-8")

    done = voicemails([], manifest, woku_warehouse, workdir, env)

    assert done.returncode == 6, done.stderr
    assert "voicemails: 18 rows: 9 accepted, 9 invalid (9 POSTs)" in done.stdout, done.stdout
    got = outcomes(woku_warehouse)
    kinds = {name: kind for name, _, kind in IMPOSTORS}
    for n, name in enumerate(names, 1):
        status, message = got[n]
        if name in real:
            assert (status, message) == ("accepted", None), (name, got[n])
        else:
            assert status == "invalid" and message.startswith(f"file {name!r} is not {kinds[name]} audio: "), got[n]
            assert "\n" not in message and len(message) < 250
    assert received(co) == {sha(content): 1 for content in real.values()}
    sent = {log["sha256"]: log["filename"] for log in co.voicemails_for()}
    assert sorted(sent.values()) == sorted(real)


# ---------------------------------------------------------------------------------------------- case 3
@only_on("duckdb", "woku_warehouse")
def test_a_quote_left_open_refuses_the_whole_file(workdir: Path, woku_warehouse, start_woku):
    co = small_company(33)
    server = start_woku(co)
    targets = [f"{etype},{rid}" for etype, rid in entities(co)]
    lines = [f"{targets[i]},trr,TX-{i}" for i in range(7)]
    lines[2] = f'{targets[2]},trr,"TX-2'  # the quote opens on file line 4 (the header is line 1)
    lines[3] = f'{targets[3]},trr,"TX-3"'
    (workdir / "values.csv").write_text("entity_type,entity_id,name,value\n" + "\n".join(lines) + "\n")
    args = ["trackers", "--file", "values.csv", *woku_warehouse.args]

    done = run_cli(args, workdir, woku_env(server), script=SCRIPT)

    assert done.returncode == 2, done.stdout + done.stderr
    assert_one_error_line(
        done,
        "--file values.csv: line 4: the quote that opens a value here closes on line 5 followed by 'T',"
        " not by a comma or the end of the line (a quote left open?)",
    )
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert server.stats()["requests"] == 0 and server.stats()["tracker_assignments"] == {}
    assert nothing_written(woku_warehouse, workdir)

    woku = co.ids("wokus")[0]
    (workdir / "a.wav").write_bytes(wav(1))
    rows = [["a.wav", woku, "4", "a@example.com", "", ""], ["a.wav", woku, "5", '"b@example.com', "", ""]]
    (workdir / "manifest.csv").write_text(manifest_text(rows))
    manifest = voicemails([], workdir / "manifest.csv", woku_warehouse, workdir, woku_env(server))
    assert manifest.returncode == 2, manifest.stdout + manifest.stderr
    assert_one_error_line(manifest, "manifest.csv: line 3: the quote that opens a value here is never closed")
    assert server.stats()["requests"] == 0 and co.voicemails_for() == []


# ---------------------------------------------------------------------------------------------- case 4
@only_on("postgres", "woku_warehouse")
def test_a_control_character_in_a_manifest_field_makes_only_its_row_invalid(workdir: Path, woku_warehouse, start_woku):
    co = company(35)
    server = start_woku(co)
    env = woku_env(server, SOURCES__WOKU__REQUEST_TIMEOUT=TIMEOUT)
    woku = open_wokus(co)[0]
    for i in range(6):
        (workdir / f"vm{i}.wav").write_bytes(wav(70 + i))
    rows = [
        ["vm0.wav", woku, "4", "ana@example.com", "", ""],
        ["vm1.wav", woku, "4", "ana@example.com", "569\x0082959776", ""],
        ["vm2.wav", woku, "4", "be\x00a@example.com", "", ""],
        ["vm\x003.wav", woku, "4", "cai@example.com", "", ""],
        ["vm4.wav", woku, "4\x1b", "dan@example.com", "", ""],
        ["vm5.wav", woku, "4", "eva@example.com", "", ""],
    ]
    manifest = workdir / "manifest.csv"
    manifest.write_text(manifest_text(rows), encoding="utf-8")
    nul = "(NUL, which cannot be stored)"

    for run in (1, 2):  # the re-run meets the same rows, and still stops at none of them
        done = voicemails([], manifest, woku_warehouse, workdir, env)
        assert done.returncode == 6, done.stdout + done.stderr
        assert "Traceback" not in done.stderr
        counts = "2 accepted, 4 invalid (2 POSTs)" if run == 1 else "2 skipped, 4 invalid (0 POSTs)"
        assert f"voicemails: 6 rows: {counts}" in done.stdout, done.stdout
        got = latest_results(woku_warehouse)
        assert [(n, r["status"]) for n, r in sorted(got.items())] == [
            (1, "accepted" if run == 1 else "skipped"),
            (2, "invalid"),
            (3, "invalid"),
            (4, "invalid"),
            (5, "invalid"),
            (6, "accepted" if run == 1 else "skipped"),
        ]
        assert got[2]["message"] == f"clientPhone holds the control character U+0000 {nul} at character 4"
        assert got[3]["message"].startswith(f"clientEmail holds the control character U+0000 {nul} at character 3")
        assert got[4]["message"] == f"file holds the control character U+0000 {nul} at character 3"
        assert got[4]["file"] == "vm\\x003.wav"  # recorded escaped: PostgreSQL cannot store the NUL itself
        assert got[5]["message"].startswith(
            "qualification holds the control character U+001B (which no value holds) at character 2"
        )
    assert received(co) == {sha(wav(70)): 1, sha(wav(75)): 1}
    assert {r["status"] for r in woku_warehouse.read("voicemail_ledger")} == {"accepted"}


@only_on("duckdb", "woku_warehouse")
def test_a_control_character_in_a_tracker_field_rejects_only_its_row(workdir: Path, woku_warehouse, start_woku):
    co = small_company(36)
    server = start_woku(co)
    ids = [rid for etype, rid in entities(co) if etype == "woku"]
    lines = [
        f"woku,{ids[0]},trr,TX-0",
        f"woku,{ids[1]},trr,TX\x00-1",
        f"woku,{ids[2]},t\x00rr,TX-2",
        f"woku,{ids[3][:23]}\x07,trr,TX-3",
        f'woku,{ids[4]},trr,"TX-4\nsecond line"',  # a line break inside a quoted value is a value
    ]
    (workdir / "values.csv").write_text("entity_type,entity_id,name,value\n" + "\n".join(lines) + "\n")

    done = run_cli(["trackers", "--file", "values.csv", *woku_warehouse.args], workdir, woku_env(server), script=SCRIPT)

    assert done.returncode == 6, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    figures = tracker_summary(done.stdout)
    assert (figures["rows"], figures["assigned"], figures["rejected"], figures["requests"]) == (5, 2, 3, 2)
    landed = {r["row_number"]: r for r in woku_warehouse.read(RESULTS)}
    assert [(n, landed[n]["status"]) for n in sorted(landed)] == [
        (1, "assigned"),
        (2, "rejected"),
        (3, "rejected"),
        (4, "rejected"),
        (5, "assigned"),
    ]
    nul = "U+0000 (NUL, which cannot be stored)"
    assert landed[2]["message"] == f"value holds the control character {nul} at character 3"
    assert landed[3]["name"] == "t\\x00rr"
    assert landed[4]["message"] == (
        "entity_id holds the control character U+0007 (which no value holds) at character 24;"
        f" entity_id '{ids[3][:23]}\\x07' is not a 24-hex ObjectId"
    )
    assert landed[4]["entity_id"] == f"{ids[3][:23]}\\x07"
    assert set(server.stats()["tracker_assignments"]) == {f"woku:{ids[0]}:trr", f"woku:{ids[4]}:trr"}
