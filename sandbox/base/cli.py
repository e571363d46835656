"""Command-line plumbing for ``python -m sandbox.<vendor>``: shared flags and the serve loop.

Benchmarks start a sandbox as a subprocess, read ``SANDBOX_URL=...`` (and any vendor lines)
from stdout, drive it through ``/_sandbox/*`` and stop it with SIGTERM.
"""

from __future__ import annotations

import argparse
import inspect
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import IO, Any, Protocol

_SIMPLE = (bool, int, float, str)


class Servable(Protocol):
    def start(self) -> str: ...

    def stop(self) -> None: ...


def sandbox_parser(prog: str, description: str | None, *, start: str) -> argparse.ArgumentParser:
    """A parser with the flags every sandbox has: address, seed and the first day of its data."""
    p = argparse.ArgumentParser(prog=prog, description=description)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--start", default=start, help="first day of generated data (UTC, YYYY-MM-DD)")
    return p


def add_server_flags(p: argparse.ArgumentParser) -> None:
    """Rate limit, fault delay and logging: the server settings every sandbox takes."""
    p.add_argument("--rate-limit", type=int, default=None)
    p.add_argument("--rate-window", type=float, default=60.0)
    p.add_argument("--slow-seconds", type=float, default=5.0)
    p.add_argument("--verbose", action="store_true")


def server_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The constructor arguments behind ``sandbox_parser`` and ``add_server_flags``."""
    names = ("host", "port", "rate_limit", "rate_window", "slow_seconds", "verbose")
    return {name: getattr(args, name) for name in names}


def start_of(args: argparse.Namespace) -> datetime:
    return datetime.fromisoformat(args.start).replace(tzinfo=UTC)


def add_defaults(
    p: argparse.ArgumentParser, func: Callable[..., Any], *, only: tuple[str, ...] = (), skip: tuple[str, ...] = ()
) -> tuple[str, ...]:
    """One ``--flag`` per parameter of ``func`` with a plain default, typed and defaulted like it.

    Flags follow the generator or constructor they feed, so a new parameter cannot be forgotten
    in one CLI; returns the parameter names to hand back with ``picked``.
    """
    names = []
    for param in inspect.signature(func).parameters.values():
        default = param.default
        if param.name in skip or (only and param.name not in only) or type(default) not in _SIMPLE:
            continue
        flag = "--" + param.name.replace("_", "-")
        if isinstance(default, bool):
            p.add_argument(flag, action="store_true")
        else:
            p.add_argument(flag, type=type(default), default=default)
        names.append(param.name)
    return tuple(names)


def picked(args: argparse.Namespace, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(args, name) for name in names}


def serve(
    server: Servable,
    lines: Mapping[str, str] | None = None,
    *,
    out: IO[str] | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Start, print ``SANDBOX_URL=...`` and ``lines`` once, serve until SIGTERM/SIGINT (or ``stop``)."""
    out = out or sys.stdout
    if stop is None:
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())  # type: ignore[union-attr]
    url = server.start()
    out.write("".join(f"{key}={value}\n" for key, value in {"SANDBOX_URL": url, **(lines or {})}.items()))
    out.flush()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return 0
