"""W6: many Wootric accounts in one run, each on its own rate-limited sandbox, into one dataset.

Measured twice against the same kind of sandbox: one account alone (the reference wall time), then N
accounts side by side (`max_parallel_accounts` = N). Exactness is per account: ids are compared as
(account, id) pairs, so a record landed under the wrong account counts as missing and extra.
Utilisation is the requests the run needed over what the N limits allowed in its wall time.
"""

import os
import sys
import uuid
from pathlib import Path
from typing import Dict, List, Tuple

import duckdb

from benchmarks.landed import PG_DSN, compare, drop_postgres
from benchmarks.measure import measure
from benchmarks.report import Result
from benchmarks.sandboxes import Sandbox
from benchmarks.workloads import STREAMS, Workload

ROOT = Path(__file__).resolve().parents[1]


def _env(workdir: Path, accounts: Dict[str, Sandbox], destination: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOURCES__", "DESTINATION__"))}
    env["DLT_DATA_DIR"] = str(workdir / "dlt-data")
    env["DESTINATION__POSTGRES__CREDENTIALS"] = PG_DSN
    if list(accounts) == ["default"]:
        prefixes = {"default": "SOURCES__WOOTRIC__"}
    else:
        env["SOURCES__WOOTRIC__ACCOUNTS"] = ",".join(accounts)
        env["SOURCES__WOOTRIC__MAX_PARALLEL_ACCOUNTS"] = str(len(accounts))
        prefixes = {name: f"SOURCES__WOOTRIC__{name.upper()}__" for name in accounts}
    for name, sandbox in accounts.items():
        env[prefixes[name] + "BASE_URL"] = sandbox.url
        env[prefixes[name] + "CREDENTIALS__CLIENT_ID"] = "sandbox-client"
        env[prefixes[name] + "CREDENTIALS__CLIENT_SECRET"] = "sandbox-secret"
    return env


def _landed(workdir: Path, destination: str, dataset: str) -> Dict[str, List[Tuple[str, int]]]:
    query = 'SELECT account, id FROM "{ds}"."{t}"'
    if destination == "postgres":
        import psycopg2

        with psycopg2.connect(PG_DSN) as con, con.cursor() as cur:
            out = {}
            for t in STREAMS:
                cur.execute(query.format(ds=dataset, t=t))
                out[t] = [tuple(r) for r in cur.fetchall()]
            return out
    with duckdb.connect(str(workdir / "feedback.duckdb"), read_only=True) as con:
        return {t: [tuple(r) for r in con.execute(query.format(ds=dataset, t=t)).fetchall()] for t in STREAMS}


def run_accounts(w: Workload, label: str, accounts: Dict[str, Sandbox], workdir: Path) -> Result:
    """One measured run of the pipeline over `accounts`, compared per account with each sandbox's truth."""
    dataset = "wootric" if w.destination == "duckdb" else f"bench_{uuid.uuid4().hex[:8]}"
    cmd = [sys.executable, str(ROOT / "pipelines" / "wootric_pipeline.py"), "--destination", w.destination]
    cmd += ["--dataset-name", dataset, "--progress", "none"]
    for sandbox in accounts.values():
        sandbox.post("/_sandbox/reset_stats")
    code, wall, cpu, rss, _out, err = measure(cmd, cwd=workdir, env=_env(workdir, accounts, w.destination))
    result = Result(w.name, label, wall_s=wall, cpu_s=cpu, peak_rss_mb=rss, exit_code=code)
    for sandbox in accounts.values():
        stats = sandbox.get("/_sandbox/stats")
        result.requests += stats["requests"]
        result.token_requests += stats.get("token_requests", 0)
        result.http_429 += stats["rate_limited"]
    if code != 0:
        result.notes = (err.strip().splitlines() or ["failed"])[-1][:200]
    held = {name: sandbox.truth_ids() for name, sandbox in accounts.items()}
    truth = {t: {(name, i) for name, ids in held.items() for i in ids[t]} for t in STREAMS}
    try:
        compare(result, truth, _landed(workdir, w.destination, dataset))
    finally:
        if w.destination == "postgres":
            drop_postgres(dataset)
    # requests the run made over what the limits allowed in its wall time
    allowed = len(accounts) * (w.rate_limit or 0) / w.rate_window * wall
    result.utilization = (result.requests + result.token_requests) / allowed if allowed else None
    return result


def run_w6(w: Workload, accounts: int, base: Path) -> List[Result]:
    """One account alone, then `accounts` side by side; the second result's notes carry the ratio."""
    sandboxes = {f"a{i}": Sandbox(w, seed=100 + i) for i in range(accounts)}
    try:
        tag = uuid.uuid4().hex[:6]
        alone_dir, many_dir = base / f"w6-alone-{tag}", base / f"w6-many-{tag}"
        alone_dir.mkdir()
        many_dir.mkdir()
        alone = run_accounts(w, "this connector, 1 account alone", {"default": sandboxes["a0"]}, alone_dir)
        many = run_accounts(w, f"this connector, {accounts} accounts", sandboxes, many_dir)
        ratio = many.wall_s / alone.wall_s if alone.wall_s else 0.0
        many.notes = (many.notes + " " if many.notes else "") + f"wall {ratio:.2f} x one account alone"
        return [alone, many]
    finally:
        for sandbox in sandboxes.values():
            sandbox.stop()
