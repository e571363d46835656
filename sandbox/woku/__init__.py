"""Woku-compatible sandbox: deterministic company data plus a loopback HTTP server.

The connector under test talks to it exactly like to clientapi.woku.app, while tests compare
the warehouse against ``WokuCompany.truth(...)`` and prove write-backs through ``stats()``.
"""

from sandbox.woku.data import DEFAULT_API_KEY, KINDS, ApiError, WokuCompany, generate_company
from sandbox.woku.server import FAULT_KINDS, WokuSandboxServer

SandboxServer = WokuSandboxServer  # same name as the Wootric sandbox's server, for symmetric imports

__all__ = [
    "DEFAULT_API_KEY",
    "FAULT_KINDS",
    "KINDS",
    "ApiError",
    "SandboxServer",
    "WokuCompany",
    "WokuSandboxServer",
    "generate_company",
]
