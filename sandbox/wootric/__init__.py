"""Wootric-compatible sandbox: deterministic account data plus a loopback HTTP server.

The pipeline under test talks to it exactly like to api.wootric.com, while tests compare
the warehouse against ``Account.truth(...)``.
"""

from sandbox.wootric.data import Account, generate_account
from sandbox.wootric.server import SandboxServer

__all__ = ["Account", "SandboxServer", "generate_account"]
