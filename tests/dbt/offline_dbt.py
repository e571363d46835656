"""`python offline_dbt.py LOG ARGS...`: dbt's CLI under the tests' network guard, each connection it
refused appended to LOG. dbt sends its usage statistics from a thread that swallows the refusal, so
only this record shows that dbt tried."""

import socket
import sys
from functools import wraps
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.support import netguard  # noqa: E402


def recorded(guarded: Callable[..., Any], log: Path) -> Callable[..., Any]:
    @wraps(guarded)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return guarded(*args, **kwargs)
        except netguard.NonLoopbackConnection as refused:
            with log.open("a") as out:
                out.write(f"{refused}\n")
            raise

    return call


if __name__ == "__main__":
    netguard.install()
    log = Path(sys.argv.pop(1))
    socket.socket.connect = recorded(socket.socket.connect, log)  # type: ignore[method-assign]
    socket.socket.connect_ex = recorded(socket.socket.connect_ex, log)  # type: ignore[method-assign]
    socket.getaddrinfo = recorded(socket.getaddrinfo, log)

    from dbt.cli.main import cli

    sys.exit(cli())
