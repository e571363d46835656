"""The sandboxes a benchmark runs against, each in its own process, so that its work is not counted."""

import json
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Dict

from benchmarks.workloads import STREAMS, Workload

ROOT = Path(__file__).resolve().parents[1]


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
        for burst in w.bursts:
            cmd += ["--burst", burst]
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
