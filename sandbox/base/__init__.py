"""Vendor-neutral sandbox plumbing: HTTP server, routing, faults, rate window, stats, admin, CLI.

A vendor package (``sandbox.wootric``, ``sandbox.woku``) subclasses ``SandboxBase`` and only
declares its routes, auth, data and error shapes.
"""

from sandbox.base.faults import Fault, FaultQueue
from sandbox.base.http import Drop, HttpError, Reply, Request
from sandbox.base.rate import RateDecision, RateWindow
from sandbox.base.routing import Route, Router
from sandbox.base.server import COMMON_STATS, SandboxBase, ServerSettings
from sandbox.base.stats import Stats

__all__ = [
    "COMMON_STATS",
    "Drop",
    "Fault",
    "FaultQueue",
    "HttpError",
    "RateDecision",
    "RateWindow",
    "Reply",
    "Request",
    "Route",
    "Router",
    "SandboxBase",
    "ServerSettings",
    "Stats",
]
