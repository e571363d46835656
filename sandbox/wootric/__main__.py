"""Run the sandbox as a process: prints ``SANDBOX_URL=...`` once, serves until SIGTERM/SIGINT.

Benchmarks start it as a subprocess, read the URL line from stdout and drive it through the
``/_sandbox/*`` admin endpoints.
"""

from __future__ import annotations

import argparse

from sandbox.base.cli import add_defaults, add_server_flags, picked, sandbox_parser, serve, server_kwargs, start_of
from sandbox.wootric.data import STYLES, generate_account
from sandbox.wootric.server import SandboxServer

_SERVER_FLAGS = (
    "page_cap",
    "max_per_page",
    "token_ttl",
    "client_id",
    "client_secret",
    "username",
    "password",
    "account_token",
)


def _burst(spec: str) -> tuple[int, str]:
    """``N:kind`` e.g. ``120:responses``."""
    n, _, kind = spec.partition(":")
    if kind not in ("end_users", "responses", "declines"):
        raise argparse.ArgumentTypeError(f"burst must look like N:responses|declines|end_users, got {spec!r}")
    return int(n), kind


def _styles(spec: str) -> tuple[str, ...]:
    """Comma-separated timestamp styles, e.g. ``space`` or ``space,iso_ms``."""
    styles = tuple(st.strip() for st in spec.split(",") if st.strip())
    unknown = [st for st in styles if st not in STYLES]
    if unknown or not styles:
        raise argparse.ArgumentTypeError(f"styles must be a comma-separated subset of {','.join(STYLES)}, got {spec!r}")
    return styles


def main(argv: list[str] | None = None) -> int:
    p = sandbox_parser("python -m sandbox.wootric", __doc__, start="2023-01-01")
    data_flags = add_defaults(p, generate_account, skip=("seed",))
    p.add_argument("--burst", type=_burst, action="append", default=[], help="N:kind; repeatable")
    p.add_argument(
        "--styles",
        type=_styles,
        default=None,
        help=f"timestamp styles to render, comma-separated subset of {','.join(STYLES)} (default: the API's mix)",
    )
    server_flags = add_defaults(p, SandboxServer, only=_SERVER_FLAGS)
    add_server_flags(p)
    args = p.parse_args(argv)

    account = generate_account(
        args.seed, start=start_of(args), bursts=tuple(args.burst), styles=args.styles, **picked(args, data_flags)
    )
    return serve(SandboxServer(account, **server_kwargs(args), **picked(args, server_flags)))


if __name__ == "__main__":
    raise SystemExit(main())
