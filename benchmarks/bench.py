"""Benchmark: the real pipeline, as a subprocess, against the sandbox; and the Singer peer on the same data.

    python benchmarks/bench.py            # full: W1 (50k and 200k responses), W2, W3, W4, the peer, W5 (Woku),
                                          # W6 (8 accounts side by side, DuckDB and Postgres), W1 into the
                                          # BigQuery emulator (bqemulator, tests/support/bigquery.py)
    python benchmarks/bench.py --quick    # small data, under two minutes; CI runs it for correctness

Each run starts in a fresh working directory with configuration in environment variables only. The
sandbox runs in its own process, so its work is not counted; the figures cover the whole process
tree of the pipeline (for the peer: tap and target). Requests are counted by the sandbox.
"""

import argparse
import os
import shutil
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from a checkout: `python benchmarks/bench.py`

# the benchmark's own modules, importable once the checkout is on the path
from benchmarks.landed import PG_DSN, drop_postgres, landed_ids, landed_ids_postgres  # noqa: E402
from benchmarks.measure import run_measured  # noqa: E402
from benchmarks.multi import run_w6  # noqa: E402
from benchmarks.report import Result, machine, render, results_json  # noqa: E402
from benchmarks.sandboxes import WOKU_TABLES, Sandbox, WokuSandbox  # noqa: E402
from benchmarks.workloads import STREAMS, Workload, workloads  # noqa: E402


def run_ours(w: Workload, sandbox: Sandbox, workdir: Path, truth: Dict[str, set]) -> Result:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOURCES__", "DESTINATION__"))}
    env.update(
        {
            "SOURCES__WOOTRIC__BASE_URL": sandbox.url,
            "SOURCES__WOOTRIC__CREDENTIALS__CLIENT_ID": "sandbox-client",
            "SOURCES__WOOTRIC__CREDENTIALS__CLIENT_SECRET": "sandbox-secret",
            "DLT_DATA_DIR": str(workdir / "dlt-data"),
            **w.env,
        }
    )
    args = [sys.executable, str(ROOT / "pipelines" / "wootric_pipeline.py"), "--destination", w.destination]
    if w.destination == "bigquery":
        return run_on_bigquery_emulator(w, sandbox, workdir, truth, env, args)
    if w.destination == "postgres":
        dataset = f"bench_{uuid.uuid4().hex[:8]}"
        env["DESTINATION__POSTGRES__CREDENTIALS"] = PG_DSN
        args += ["--dataset-name", dataset]

        def read_landed() -> Dict[str, List]:
            try:
                return landed_ids_postgres(dataset)
            finally:
                drop_postgres(dataset)
    else:

        def read_landed() -> Dict[str, List]:
            return landed_ids(workdir / "feedback.duckdb", "wootric", {s: s for s in STREAMS})

    return run_measured(
        w, "this connector", sandbox, args, cwd=workdir, env=env, shell=False, truth=truth, read_landed=read_landed
    )


def run_on_bigquery_emulator(
    w: Workload, sandbox: Sandbox, workdir: Path, truth: Dict[str, set], env: Dict[str, str], args: List[str]
) -> Result:
    """The same run into bqemulator on loopback (emulator mode). The figures are the pipeline's
    process tree only: the emulator, BigQuery's stand-in, runs apart (its RSS is in the notes)."""
    import psutil

    from tests.support import bigquery

    emulator = bigquery.Emulator().start()
    dataset = f"bench_{uuid.uuid4().hex[:8]}"
    try:
        env.update(bigquery.env(emulator))
        result = run_measured(
            w,
            "this connector",
            sandbox,
            [*args, "--dataset-name", dataset],
            cwd=workdir,
            env=env,
            shell=False,
            truth=truth,
            read_landed=lambda: {
                s: [r["id"] for r in emulator.query(f"SELECT id FROM `{bigquery.PROJECT}.{dataset}.{s}`")]
                for s in STREAMS
            },
        )
        rss = psutil.Process(emulator.process.pid).memory_info().rss / 2**20  # type: ignore[union-attr]
        result.notes += f"emulator (not counted): started in {emulator.started_in:.1f}s, RSS {rss:.0f} MB after the run"
        return result
    finally:
        emulator.stop()


def run_woku(w: Workload, sandbox: WokuSandbox, workdir: Path, truth: Dict[str, set]) -> Result:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOURCES__", "DESTINATION__"))}
    env.update(
        {
            "SOURCES__WOKU__BASE_URL": sandbox.url,
            "SOURCES__WOKU__CREDENTIALS__API_KEY": sandbox.api_key,
            "DLT_DATA_DIR": str(workdir / "dlt-data"),
            **w.env,
        }
    )
    args = [sys.executable, str(ROOT / "pipelines" / "woku_pipeline.py")]

    def read_landed() -> Dict[str, List]:
        return landed_ids(workdir / "feedback.duckdb", "woku", {t: t for t in WOKU_TABLES}, key="_id")

    connector = "this connector (Woku)"
    return run_measured(
        w, connector, sandbox, args, cwd=workdir, env=env, shell=False, truth=truth, read_landed=read_landed
    )


def run_peer(w: Workload, sandbox: Sandbox, workdir: Path, truth: Dict[str, set], cache: Path) -> Result:
    from benchmarks.peer import ensure_peer, peer_command, peer_landed

    cmd = peer_command(
        ensure_peer(cache), sandbox.url, workdir, client_id="sandbox-client", client_secret="sandbox-secret"
    )
    return run_measured(
        w,
        "tap-wootric + target-duckdb",
        sandbox,
        cmd,
        cwd=workdir,
        env=dict(os.environ),
        shell=True,
        truth=truth,
        read_landed=lambda: peer_landed(workdir),
    )


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small data, under two minutes (CI)")
    parser.add_argument("--no-peer", action="store_true", help="skip tap-wootric | target-duckdb")
    parser.add_argument("--peer", action="store_true", help="include the peer in --quick mode")
    parser.add_argument("--only", help="run only workloads whose name contains this text")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--cache", type=Path, default=ROOT / ".bench-cache", help="where the peer's venvs live")
    args = parser.parse_args(argv)
    with_peer = (args.peer or not args.quick) and not args.no_peer

    results: List[Result] = []
    dirs: Dict[str, Path] = {}
    sandboxes: Dict[str, Sandbox] = {}
    truths: Dict[str, Dict[str, set]] = {}
    base = Path(tempfile.mkdtemp(prefix="wootric-bench-"))
    print(f"machine: {machine()}", flush=True)
    try:
        for w in workloads(args.quick, with_peer):
            if args.only and args.only not in w.name and not (w.incremental_of and args.only in w.incremental_of):
                continue
            if w.accounts:
                print(f"running {w.name} ...", flush=True)
                results.extend(run_w6(w, w.accounts, base))
                print(render(results[-2:]).splitlines()[-1], flush=True)
                continue
            if w.incremental_of:
                if w.incremental_of not in dirs:
                    continue
                sandbox, workdir, truth = sandboxes[w.incremental_of], dirs[w.incremental_of], truths[w.incremental_of]
            else:
                sandbox = WokuSandbox(w) if w.woku else Sandbox(w)
                workdir = base / f"w{len(dirs)}"
                workdir.mkdir()
                truth = sandbox.truth_ids()
                dirs[w.name], sandboxes[w.name], truths[w.name] = workdir, sandbox, truth
            print(f"running {w.name} ...", flush=True)
            results.append(run_woku(w, sandbox, workdir, truth) if w.woku else run_ours(w, sandbox, workdir, truth))
            if w.peer:
                peer_dir = base / f"peer{len(results)}"
                peer_dir.mkdir()
                results.append(run_peer(w, sandbox, peer_dir, truth, args.cache))
            print(render(results[-2:] if w.peer else results[-1:]).splitlines()[-1], flush=True)
    finally:
        for sandbox in sandboxes.values():
            sandbox.stop()
        shutil.rmtree(base, ignore_errors=True)

    print()
    print(render(results))
    if args.json:
        args.json.write_text(results_json(results))
    ours = [r for r in results if r.connector.startswith("this connector")]
    bad = [r for r in ours if r.exit_code != 0 or r.missing or r.duplicated]
    if bad:
        print(f"\nFAILED: {len(bad)} run(s) of this connector lost, doubled or failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
