"""Fixtures of the Woku sandbox tests: one generated company and server per module, and a fresh
company per test for anything that writes.

The Woku end-to-end tests trust this server as the API's stand-in, so its envelopes, paging,
filters, validation, upsert and idempotency semantics, voicemail upload, faults (above all
``lost_answer``) and counters are pinned down in the tests next to this file, over real loopback HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from sandbox.woku import WokuCompany, WokuSandboxServer, generate_company
from tests.sandbox.support import bearer_session
from tests.sandbox.woku.support import GEN, session


@pytest.fixture(scope="module")
def company() -> WokuCompany:
    return generate_company(11, **GEN)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def server(company: WokuCompany) -> Iterator[WokuSandboxServer]:
    with WokuSandboxServer(company) as srv:
        yield srv


@pytest.fixture()
def api(server: WokuSandboxServer) -> Iterator[requests.Session]:
    server.clear_faults()
    s = bearer_session(server.api_key)
    yield s
    s.close()


@pytest.fixture()
def small() -> Iterator[tuple[WokuSandboxServer, requests.Session]]:
    """A fresh company per test for anything that writes."""
    co = generate_company(5, nps_responses=40, csat_responses=10, ces_responses=10, reviews=30, closed_wokus=1)
    with WokuSandboxServer(co) as srv:
        s = session(srv)
        yield srv, s
        s.close()
