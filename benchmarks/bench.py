"""Benchmark: the real pipeline, as a subprocess, against the sandbox; and the Singer peer on the same data.

    python benchmarks/bench.py            # full: W1 (50k and 200k responses), W2, W3, W4, the peer, W5 (Woku)
    python benchmarks/bench.py --quick    # small data, under two minutes; CI runs it for correctness

Each run starts in a fresh working directory with configuration in environment variables only. The
sandbox runs in its own process, so its work is not counted; the figures cover the whole process
tree of the pipeline (for the peer: tap and target). Requests are counted by the sandbox.
"""

import argparse
import json
import math
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional

import duckdb
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from a checkout: `python benchmarks/bench.py`
STREAMS = ("end_users", "responses", "declines")
PG_DSN = os.environ.get("BENCH_POSTGRES_DSN", "postgresql://postgres:postgres@127.0.0.1:5432/test")


@dataclass
class Workload:
    name: str
    end_users: int
    responses: int
    declines: int
    rate_limit: Optional[int] = None
    rate_window: float = 60.0
    destination: str = "duckdb"
    incremental_of: Optional[str] = None  # re-run in the working directory of this workload
    peer: bool = False
    styles: str = ""
    env: Dict[str, str] = field(default_factory=dict)
    #: "woku": the Woku pipeline against the Woku sandbox, with these sandbox counts
    woku: Dict[str, int] = field(default_factory=dict)


@dataclass
class Result:
    workload: str
    connector: str
    held: int = 0
    landed: int = 0
    missing: int = 0
    duplicated: int = 0
    requests: int = 0
    token_requests: int = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_rss_mb: float = 0.0
    http_429: int = 0
    exit_code: int = 0
    utilization: Optional[float] = None
    notes: str = ""
    per_stream: Dict[str, Dict[str, int]] = field(default_factory=dict)

    @property
    def requests_per_1000(self) -> float:
        return 1000 * (self.requests + self.token_requests) / self.held if self.held else 0.0

    @property
    def records_per_s(self) -> float:
        return self.landed / self.wall_s if self.wall_s else 0.0


class Sandbox:
    """The sandbox server in its own process."""

    def __init__(self, w: Workload, seed: int = 42) -> None:
        cmd = [
            sys.executable,
            "-m",
            "sandbox.wootric",
            "--port",
            "0",
            "--seed",
            str(seed),
            "--end-users",
            str(w.end_users),
            "--responses",
            str(w.responses),
            "--declines",
            str(w.declines),
        ]
        if w.rate_limit:
            cmd += ["--rate-limit", str(w.rate_limit), "--rate-window", str(w.rate_window)]
        if w.styles:
            cmd += ["--styles", w.styles]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("SANDBOX_URL="):
            raise RuntimeError(f"sandbox did not start: {line!r}")
        self.url = line.split("=", 1)[1]

    def get(self, path: str) -> object:
        with urllib.request.urlopen(self.url + path, timeout=300) as resp:
            return json.load(resp)

    def post(self, path: str) -> None:
        req = urllib.request.Request(self.url + path, data=b"{}", method="POST")
        urllib.request.urlopen(req, timeout=60).read()

    def truth_ids(self) -> Dict[str, set]:
        return {s: {rec["id"] for rec in self.get(f"/_sandbox/truth/{s}")} for s in STREAMS}

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


#: Woku tables and the sandbox truth kinds they hold
WOKU_TABLES = {
    "nps_responses": ("nps_responses",),
    "csat_responses": ("csat_responses",),
    "ces_responses": ("ces_responses",),
    "woku_reviews": ("woku_reviews",),
    "form_responses": ("form_responses",),
    "external_tracker_values": ("external_tracker_values", "woku_tracker_values"),
}


class WokuSandbox(Sandbox):
    """The Woku sandbox server in its own process."""

    def __init__(self, w: Workload, seed: int = 42) -> None:
        cmd = [sys.executable, "-m", "sandbox.woku", "--port", "0", "--seed", str(seed)]
        for key, value in w.woku.items():
            cmd += [f"--{key.replace('_', '-')}", str(value)]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        lines = [self.proc.stdout.readline().strip() for _ in range(2)]
        if not lines[0].startswith("SANDBOX_URL=") or not lines[1].startswith("SANDBOX_API_KEY="):
            raise RuntimeError(f"woku sandbox did not start: {lines!r}")
        self.url = lines[0].split("=", 1)[1]
        self.api_key = lines[1].split("=", 1)[1]

    def truth_ids(self) -> Dict[str, set]:
        return {
            table: {rec["_id"] for kind in kinds for rec in self.get(f"/_sandbox/truth/{kind}")}
            for table, kinds in WOKU_TABLES.items()
        }


def measure(cmd, *, cwd: Path, env: Dict[str, str], shell: bool = False) -> tuple:
    """Run a command; wall seconds, CPU seconds of its whole process tree, peak tree RSS (sampled)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, shell=shell, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peak = [0]

    def sample() -> None:
        root = psutil.Process(proc.pid)
        while proc.poll() is None:
            try:
                rss = sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])
                peak[0] = max(peak[0], rss)
            except psutil.Error:
                pass
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    wall = time.monotonic() - started
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return proc.returncode, wall, cpu, peak[0] / 2**20, out, err


def landed_ids(db: Path, dataset: str, tables: Dict[str, str], key: str = "id") -> Dict[str, List]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {
            s: [r[0] for r in con.execute(f'SELECT {key} FROM {dataset}."{t}"').fetchall()] for s, t in tables.items()
        }


def landed_ids_postgres(dataset: str) -> Dict[str, List]:
    import psycopg2

    with psycopg2.connect(PG_DSN) as con, con.cursor() as cur:
        out = {}
        for s in STREAMS:
            cur.execute(f'SELECT id FROM "{dataset}"."{s}"')
            out[s] = [r[0] for r in cur.fetchall()]
        return out


def drop_postgres(dataset: str) -> None:
    import psycopg2

    con = psycopg2.connect(PG_DSN)
    con.autocommit = True
    with con.cursor() as cur:
        for schema in (dataset, f"{dataset}_staging"):
            cur.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    con.close()


def compare(result: Result, truth: Dict[str, set], landed: Dict[str, List]) -> None:
    for s in truth:
        ids = landed.get(s, [])
        distinct = set(ids)
        stream = {
            "held": len(truth[s]),
            "landed": len(distinct),
            "missing": len(truth[s] - distinct),
            "duplicated": len(ids) - len(distinct),
        }
        result.per_stream[s] = stream
        result.held += stream["held"]
        result.landed += stream["landed"]
        result.missing += stream["missing"]
        result.duplicated += stream["duplicated"]


def fewest_requests(w: Workload) -> int:
    return sum(math.ceil(n / 50) for n in (w.end_users, w.responses, w.declines))


def run_measured(
    w: Workload,
    connector: str,
    sandbox: Sandbox,
    cmd,
    *,
    cwd: Path,
    env: Dict[str, str],
    shell: bool,
    truth: Dict[str, set],
    read_landed: Callable[[], Dict[str, List]],
) -> Result:
    """One measured run of either connector, compared with the ground truth afterwards."""
    sandbox.post("/_sandbox/reset_stats")
    code, wall, cpu, rss, _out, err = measure(cmd, cwd=cwd, env=env, shell=shell)
    stats = sandbox.get("/_sandbox/stats")
    result = Result(
        w.name,
        connector,
        requests=stats["requests"],
        token_requests=stats.get("token_requests", 0),
        wall_s=wall,
        cpu_s=cpu,
        peak_rss_mb=rss,
        http_429=stats["rate_limited"],
        exit_code=code,
    )
    if code != 0:
        result.notes = (err.strip().splitlines() or ["failed"])[-1][:200]
    try:
        compare(result, truth, read_landed())
    except Exception as exc:  # noqa: BLE001 - a failed run is reported, not raised
        result.notes += f" (could not read the warehouse: {type(exc).__name__})"
        result.held = sum(len(v) for v in truth.values())
        result.missing = result.held
    if w.rate_limit:
        result.utilization = fewest_requests(w) / w.rate_limit * w.rate_window / wall
    return result


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


#: W3's target (at most 2 list requests per stream) predates the responses look-back window, which
#: by design re-reads the last days of responses; the benchmark reports both
NO_LOOKBACK = {"SOURCES__WOOTRIC__RESPONSES_LOOKBACK_DAYS": "0"}


WOKU_QUICK = {"nps_responses": 6_000, "csat_responses": 2_000, "ces_responses": 2_000, "wokus": 40, "reviews": 3_000}
WOKU_FULL = {
    "nps_responses": 100_000,
    "csat_responses": 30_000,
    "ces_responses": 30_000,
    "wokus": 200,
    "reviews": 40_000,
    "forms": 20,
    "form_responses": 20_000,
}


def workloads(quick: bool, peer: bool) -> List[Workload]:
    woku = WOKU_QUICK if quick else WOKU_FULL
    tail = [
        Workload("W5 Woku full sync → DuckDB", 0, 0, 0, woku=woku),
        Workload("W5 Woku incremental, no change", 0, 0, 0, woku=woku, incremental_of="W5 Woku full sync → DuckDB"),
    ]
    if quick:
        return [
            Workload("W1 backfill → DuckDB", 1_000, 10_000, 1_000, peer=peer, styles="space" if peer else ""),
            Workload("W2 rate-limited (60 req / 3 s)", 1_000, 6_000, 500, rate_limit=60, rate_window=3.0),
            Workload("W3 incremental, no change", 1_000, 10_000, 1_000, incremental_of="W1 backfill → DuckDB"),
            Workload(
                "W3 … without look-back", 1_000, 10_000, 1_000, incremental_of="W1 backfill → DuckDB", env=NO_LOOKBACK
            ),
            Workload("W4 backfill → Postgres", 1_000, 10_000, 1_000, destination="postgres"),
            *tail,
        ]
    return [
        Workload(
            "W1 backfill → DuckDB (50k responses)", 20_000, 50_000, 20_000, peer=peer, styles="space" if peer else ""
        ),
        Workload(
            "W1 backfill → DuckDB (200k responses)", 20_000, 200_000, 20_000, peer=peer, styles="space" if peer else ""
        ),
        Workload("W2 rate-limited (60 req / 3 s)", 3_000, 15_000, 1_500, rate_limit=60, rate_window=3.0),
        Workload(
            "W3 incremental, no change", 20_000, 200_000, 20_000, incremental_of="W1 backfill → DuckDB (200k responses)"
        ),
        Workload(
            "W3 … without look-back",
            20_000,
            200_000,
            20_000,
            incremental_of="W1 backfill → DuckDB (200k responses)",
            env=NO_LOOKBACK,
        ),
        Workload("W4 backfill → Postgres", 20_000, 200_000, 20_000, destination="postgres"),
        *tail,
    ]


def render(results: List[Result]) -> str:
    head = (
        "| workload | connector | held | landed | missing | dup | requests | req/1k | wall s | rec/s "
        "| CPU s | peak RSS MB | 429s | util | exit |"
    )
    rows = [head, "|" + "---|" * 15]
    for r in results:
        util = f"{r.utilization:.3f}" if r.utilization is not None else ""
        rows.append(
            f"| {r.workload} | {r.connector} | {r.held:,} | {r.landed:,} | {r.missing:,} | {r.duplicated:,} "
            f"| {r.requests + r.token_requests:,} | {r.requests_per_1000:.2f} | {r.wall_s:.1f} "
            f"| {r.records_per_s:,.0f} "
            f"| {r.cpu_s:.1f} | {r.peak_rss_mb:.0f} | {r.http_429} | {util} | {r.exit_code} |"
        )
    notes = [f"- {r.workload} / {r.connector}: {r.notes}" for r in results if r.notes]
    return "\n".join(rows + ([""] + notes if notes else []))


def machine() -> str:
    return (
        f"{platform.machine()}, {psutil.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, "
        f"Python {platform.python_version()}, {platform.system()}"
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
        args.json.write_text(json.dumps({"machine": machine(), "results": [asdict(r) for r in results]}, indent=2))
    ours = [r for r in results if r.connector.startswith("this connector")]
    bad = [r for r in ours if r.exit_code != 0 or r.missing or r.duplicated]
    if bad:
        print(f"\nFAILED: {len(bad)} run(s) of this connector lost, doubled or failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
