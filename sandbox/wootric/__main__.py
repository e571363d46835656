"""Run the sandbox as a process: prints ``SANDBOX_URL=...`` once, serves until SIGTERM/SIGINT.

Benchmarks start it as a subprocess, read the URL line from stdout and drive it through the
``/_sandbox/*`` admin endpoints.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from datetime import UTC, datetime

from sandbox.wootric.data import STYLES, generate_account
from sandbox.wootric.server import SandboxServer


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
    p = argparse.ArgumentParser(prog="python -m sandbox.wootric", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--end-users", type=int, default=200)
    p.add_argument("--responses", type=int, default=2000)
    p.add_argument("--declines", type=int, default=200)
    p.add_argument("--start", default="2023-01-01", help="first day of generated data (UTC, YYYY-MM-DD)")
    p.add_argument("--span-days", type=int, default=365)
    p.add_argument("--burst", type=_burst, action="append", default=[], help="N:kind; repeatable")
    p.add_argument("--huge-second", type=int, default=0)
    p.add_argument("--excluded-ratio", type=float, default=0.05)
    p.add_argument("--id-offset", type=int, default=0)
    p.add_argument(
        "--styles",
        type=_styles,
        default=None,
        help=f"timestamp styles to render, comma-separated subset of {','.join(STYLES)} (default: the API's mix)",
    )
    p.add_argument("--page-cap", type=int, default=30)
    p.add_argument("--max-per-page", type=int, default=50)
    p.add_argument("--rate-limit", type=int, default=None)
    p.add_argument("--rate-window", type=float, default=60.0)
    p.add_argument("--token-ttl", type=float, default=7200)
    p.add_argument("--client-id", default="sandbox-client")
    p.add_argument("--client-secret", default="sandbox-secret")
    p.add_argument("--username", default="analyst@example.com")
    p.add_argument("--password", default="sandbox-password")
    p.add_argument("--account-token", default="NPS-sandbox")
    p.add_argument("--slow-seconds", type=float, default=5.0)
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args(argv)

    account = generate_account(
        args.seed,
        args.end_users,
        args.responses,
        args.declines,
        start=datetime.fromisoformat(args.start).replace(tzinfo=UTC),
        span_days=args.span_days,
        bursts=tuple(args.burst),
        excluded_ratio=args.excluded_ratio,
        huge_second=args.huge_second,
        id_offset=args.id_offset,
        styles=args.styles,
    )
    server = SandboxServer(
        account,
        host=args.host,
        port=args.port,
        page_cap=args.page_cap,
        max_per_page=args.max_per_page,
        rate_limit=args.rate_limit,
        rate_window=args.rate_window,
        token_ttl=args.token_ttl,
        client_id=args.client_id,
        client_secret=args.client_secret,
        username=args.username,
        password=args.password,
        account_token=args.account_token,
        slow_seconds=args.slow_seconds,
        verbose=args.verbose,
    )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    url = server.start()
    sys.stdout.write(f"SANDBOX_URL={url}\n")
    sys.stdout.flush()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
