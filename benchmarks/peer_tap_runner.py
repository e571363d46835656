"""Run the unmodified Singer tap ``tap-wootric`` against the sandbox (runs INSIDE the tap's venv).

``tap-wootric`` hard-codes ``BASE_URL = "https://api.wootric.com/v1/"`` and posts the OAuth grant to
the literal ``"https://api.wootric.com/oauth/token"``. This runner points both at the sandbox without
touching the installed package: it sets ``tap_wootric.BASE_URL`` and rewrites the host of every
request that ``requests`` sends (``requests.post`` also goes through ``Session.send``). Then it calls
``tap_wootric.main()`` with the remaining arguments, exactly as the ``tap-wootric`` console script
would, so Singer messages go to stdout and logs to stderr.

Usage: python peer_tap_runner.py --sandbox-url URL [--emitted PATH] --config tap.json [--state ...]

``--emitted PATH`` writes, when the tap ends (also when it crashes), the RECORD messages it emitted
per stream: ``{"responses": {"records": N, "unique_ids": M}, ...}``; ``records > unique_ids``
means the tap emitted some records twice (the target's merge on ``id`` hides that in the table).

Only the standard library, ``requests`` and the tap are imported: this file must run on the tap
venv's old dependency set, not the project's.
"""

from __future__ import annotations

import argparse
import atexit
import json
import sys

REAL_HOST = "https://api.wootric.com"


def _redirect(sandbox_url: str) -> None:
    import requests
    import tap_wootric

    base = sandbox_url.rstrip("/")
    tap_wootric.BASE_URL = base + "/v1/"
    original_send = requests.Session.send

    def send(self, request, **kwargs):  # type: ignore[no-untyped-def]
        if request.url.startswith(REAL_HOST):
            request.url = base + request.url[len(REAL_HOST) :]
        return original_send(self, request, **kwargs)

    requests.Session.send = send  # type: ignore[method-assign]


def _count_emitted(path: str) -> None:
    import singer

    counts: dict[str, dict[str, int]] = {}
    ids: dict[str, set] = {}
    original = singer.write_record

    def write_record(stream_name, record, *args, **kwargs):  # type: ignore[no-untyped-def]
        c = counts.setdefault(stream_name, {"records": 0, "unique_ids": 0})
        c["records"] += 1
        seen = ids.setdefault(stream_name, set())
        if record.get("id") not in seen:
            seen.add(record.get("id"))
            c["unique_ids"] += 1
        return original(stream_name, record, *args, **kwargs)

    singer.write_record = write_record  # the tap calls singer.write_record(...) at run time

    def dump() -> None:
        with open(path, "w") as f:
            json.dump(counts, f, sort_keys=True)

    atexit.register(dump)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--sandbox-url", required=True)
    parser.add_argument("--emitted", default=None)
    args, rest = parser.parse_known_args(argv)
    _redirect(args.sandbox_url)
    if args.emitted:
        _count_emitted(args.emitted)
    import tap_wootric

    sys.argv = ["tap-wootric", *rest]  # singer.utils.parse_args reads sys.argv
    tap_wootric.main()


if __name__ == "__main__":
    main()
