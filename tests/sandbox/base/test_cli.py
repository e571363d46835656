"""CLI helpers: flags derived from signatures, and the serve loop (driven by an Event, no signals)."""

from __future__ import annotations

import argparse
import io
import threading
from datetime import UTC, datetime

import pytest

from sandbox.base.cli import add_defaults, add_server_flags, picked, sandbox_parser, serve, server_kwargs, start_of


def generate(
    seed: int = 0, *, rows: int = 10, ratio: float = 0.5, key: str = "k", flag: bool = False, tags: tuple[str, ...] = ()
) -> None:
    """A stand-in data generator."""


def test_add_defaults_follows_the_signature() -> None:
    p = argparse.ArgumentParser()
    names = add_defaults(p, generate, skip=("seed",))
    assert names == ("rows", "ratio", "key", "flag")  # ``tags`` has no plain default
    args = p.parse_args(["--rows", "3", "--ratio", "0.25", "--flag"])
    assert picked(args, names) == {"rows": 3, "ratio": 0.25, "key": "k", "flag": True}
    with pytest.raises(SystemExit):
        p.parse_args(["--rows", "2.5"])  # typed like the default
    only = add_defaults(argparse.ArgumentParser(), generate, only=("key",))
    assert only == ("key",)


def test_common_parser_and_server_kwargs() -> None:
    p = sandbox_parser("prog", None, start="2024-02-03")
    add_server_flags(p)
    args = p.parse_args(["--port", "8123", "--rate-limit", "5"])
    assert server_kwargs(args) == {
        "host": "127.0.0.1",
        "port": 8123,
        "rate_limit": 5,
        "rate_window": 60.0,
        "slow_seconds": 5.0,
        "verbose": False,
    }
    assert start_of(args) == datetime(2024, 2, 3, tzinfo=UTC) and args.seed == 0


class FakeServer:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def start(self) -> str:
        self.calls.append("start")
        return "http://127.0.0.1:4321"

    def stop(self) -> None:
        self.calls.append("stop")


def test_serve_prints_the_url_and_extra_lines_then_stops() -> None:
    server, out, stop = FakeServer(), io.StringIO(), threading.Event()
    stop.set()  # as if SIGTERM had already arrived
    assert serve(server, {"SANDBOX_API_KEY": "sk"}, out=out, stop=stop) == 0
    assert out.getvalue() == "SANDBOX_URL=http://127.0.0.1:4321\nSANDBOX_API_KEY=sk\n"
    assert server.calls == ["start", "stop"]
