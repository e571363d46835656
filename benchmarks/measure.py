"""Running a connector as a measured process tree: wall and CPU seconds, peak RSS, and the requests the
sandbox counted; the run is then compared with the ground truth.
"""

import resource
import subprocess
import threading
import time
from pathlib import Path
from typing import Callable, Dict, List

import psutil

from benchmarks.landed import compare
from benchmarks.report import Result
from benchmarks.sandboxes import Sandbox
from benchmarks.workloads import Workload, fewest_requests


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
