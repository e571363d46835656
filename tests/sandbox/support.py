"""Helpers the sandbox tests share: a sandbox CLI in a subprocess, and bearer-token sessions."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import requests

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class FakeTime:
    """A clock that moves only when a test moves it or something sleeps on it: no real waiting."""

    now: float = 1_000_000.0
    slept: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def bearer_session(token: str) -> requests.Session:
    """A session sending ``Authorization: Bearer <token>`` (both APIs' scheme)."""
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {token}"
    return s


@contextmanager
def sandbox_process(module: str, *args: str) -> Iterator[tuple[str, IO[str]]]:
    """``python -m <module> --port 0 <args>`` as benchmarks run it: yields its URL and the rest of its stdout.

    On exit it sends SIGTERM and checks the process ends cleanly (exit code 0), as the serve loop promises.
    """
    command = [sys.executable, "-m", module, "--port", "0", *args]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert re.fullmatch(r"SANDBOX_URL=http://127\.0\.0\.1:\d+", line), line
        yield line.split("=", 1)[1], proc.stdout
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        assert code == 0
