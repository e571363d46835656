"""Loopback only: a test that would connect (or resolve a name) anywhere but this machine fails at once.

Installed in the test process by `tests/conftest.py`, and in every CLI subprocess a test starts through
`tests/support/loopback_only/sitecustomize.py`, so a refusal "before any connection" is proven, not hoped.
"""

import ipaddress
import socket
from typing import Any

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


class NonLoopbackConnection(OSError):
    pass


def is_loopback(host: Any) -> bool:
    if not isinstance(host, str):
        return False
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0]).is_loopback
    except ValueError:
        return False


def install() -> None:
    if getattr(socket, "_loopback_only", False):
        return
    real_connect, real_connect_ex, real_getaddrinfo = (
        socket.socket.connect,
        socket.socket.connect_ex,
        socket.getaddrinfo,
    )

    def guard(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(address[0]):
            raise NonLoopbackConnection(f"test network guard: refused a connection to {address[0]!r}")

    def connect(self: socket.socket, address: Any) -> None:
        guard(self, address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        guard(self, address)
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in (None, "") and not is_loopback(host.decode() if isinstance(host, bytes) else host):
            raise NonLoopbackConnection(f"test network guard: refused to resolve {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo
    socket._loopback_only = True  # type: ignore[attr-defined]
