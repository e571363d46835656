"""Run the Woku sandbox as a process: prints ``SANDBOX_URL=...`` then ``SANDBOX_API_KEY=...``,
serves until SIGTERM/SIGINT.

Demos and benchmarks start it as a subprocess, read those lines from stdout and drive it through
the ``/_sandbox/*`` admin endpoints.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from datetime import UTC, datetime

from sandbox.woku.data import DEFAULT_API_KEY, generate_company
from sandbox.woku.server import WokuSandboxServer


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m sandbox.woku", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--api-key", default=DEFAULT_API_KEY)
    p.add_argument("--nps-tools", type=int, default=3)
    p.add_argument("--csat-tools", type=int, default=2)
    p.add_argument("--ces-tools", type=int, default=2)
    p.add_argument("--nps-responses", type=int, default=600)
    p.add_argument("--csat-responses", type=int, default=300)
    p.add_argument("--ces-responses", type=int, default=300)
    p.add_argument("--wokus", type=int, default=12)
    p.add_argument("--reviews", type=int, default=400)
    p.add_argument("--voice-ratio", type=float, default=0.35)
    p.add_argument("--forms", type=int, default=3)
    p.add_argument("--form-responses", type=int, default=150)
    p.add_argument("--flows", type=int, default=3)
    p.add_argument("--trackers", type=int, default=6)
    p.add_argument("--inactive-trackers", type=int, default=2)
    p.add_argument("--tracker-values", type=int, default=40)
    p.add_argument("--clients", type=int, default=150)
    p.add_argument("--closed-wokus", type=int, default=0)
    p.add_argument("--start", default="2024-01-01", help="first day of responses (UTC, YYYY-MM-DD)")
    p.add_argument("--span-days", type=int, default=365)
    p.add_argument("--default-limit", type=int, default=20)
    p.add_argument("--max-limit", type=int, default=100)
    p.add_argument("--rate-limit", type=int, default=None)
    p.add_argument("--rate-window", type=float, default=60.0)
    p.add_argument("--slow-seconds", type=float, default=5.0)
    p.add_argument("--max-audio-bytes", type=int, default=25 * 1024 * 1024)
    p.add_argument("--auth-error-status", type=int, choices=(401, 403), default=401)
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args(argv)

    company = generate_company(
        args.seed,
        nps_tools=args.nps_tools,
        csat_tools=args.csat_tools,
        ces_tools=args.ces_tools,
        nps_responses=args.nps_responses,
        csat_responses=args.csat_responses,
        ces_responses=args.ces_responses,
        wokus=args.wokus,
        reviews=args.reviews,
        voice_ratio=args.voice_ratio,
        forms=args.forms,
        form_responses=args.form_responses,
        flows=args.flows,
        trackers=args.trackers,
        inactive_trackers=args.inactive_trackers,
        tracker_values=args.tracker_values,
        clients=args.clients,
        closed_wokus=args.closed_wokus,
        start=datetime.fromisoformat(args.start).replace(tzinfo=UTC),
        span_days=args.span_days,
        api_key=args.api_key,
    )
    server = WokuSandboxServer(
        company,
        host=args.host,
        port=args.port,
        default_limit=args.default_limit,
        max_limit=args.max_limit,
        rate_limit=args.rate_limit,
        rate_window=args.rate_window,
        slow_seconds=args.slow_seconds,
        max_audio_bytes=args.max_audio_bytes,
        auth_error_status=args.auth_error_status,
        verbose=args.verbose,
    )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    url = server.start()
    sys.stdout.write(f"SANDBOX_URL={url}\nSANDBOX_API_KEY={company.api_key}\n")
    sys.stdout.flush()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
