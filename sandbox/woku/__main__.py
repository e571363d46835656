"""Run the Woku sandbox as a process: prints ``SANDBOX_URL=...`` then ``SANDBOX_API_KEY=...``,
serves until SIGTERM/SIGINT.

Demos and benchmarks start it as a subprocess, read those lines from stdout and drive it through
the ``/_sandbox/*`` admin endpoints.
"""

from __future__ import annotations

from sandbox.base.cli import add_defaults, add_server_flags, picked, sandbox_parser, serve, server_kwargs, start_of
from sandbox.woku.data import generate_company
from sandbox.woku.server import WokuSandboxServer


def main(argv: list[str] | None = None) -> int:
    p = sandbox_parser("python -m sandbox.woku", __doc__, start="2024-01-01")
    data_flags = add_defaults(p, generate_company, skip=("seed",))
    server_flags = add_defaults(p, WokuSandboxServer, only=("default_limit", "max_limit", "max_audio_bytes"))
    p.add_argument("--auth-error-status", type=int, choices=(401, 403), default=401)
    add_server_flags(p)
    args = p.parse_args(argv)

    company = generate_company(args.seed, start=start_of(args), **picked(args, data_flags))
    server = WokuSandboxServer(
        company, auth_error_status=args.auth_error_status, **server_kwargs(args), **picked(args, server_flags)
    )
    return serve(server, {"SANDBOX_API_KEY": company.api_key})


if __name__ == "__main__":
    raise SystemExit(main())
