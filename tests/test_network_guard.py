"""The tests' own guard: loopback only, in this process and in every CLI subprocess they start."""

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import _cli
from tests.support.netguard import NonLoopbackConnection


def test_this_process_refuses_other_addresses_before_connecting() -> None:
    assert getattr(socket, "_loopback_only", False), "the guard must be installed before anything is tried"
    with socket.socket() as sock, pytest.raises(NonLoopbackConnection):
        sock.connect(("192.0.2.1", 9))  # documentation range: refused by the guard, never sent
    with pytest.raises(NonLoopbackConnection):
        socket.getaddrinfo("example.com", 443)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname(), timeout=5):
            pass  # loopback still works


def test_cli_subprocesses_run_with_the_guard(tmp_path: Path) -> None:
    command, env = _cli([], tmp_path, {}, "wootric_pipeline.py")
    probe = "import socket; print(getattr(socket, '_loopback_only', False))"
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert done.stdout.strip() == "True", done.stderr
