"""Fixtures of the Wootric sandbox tests: one generated account and server per module.

The end-to-end tests trust this server as the API's stand-in, so its filtering, ordering,
paging, auth, rate limiting and fault injection are pinned down in the tests next to this file,
over real loopback HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from sandbox.wootric import Account, SandboxServer, generate_account
from tests.sandbox.support import bearer_session


@pytest.fixture(scope="module")
def account() -> Account:
    return generate_account(
        7, end_users=300, responses=3000, declines=400, bursts=((120, "responses"), (60, "end_users"), (40, "declines"))
    )


@pytest.fixture(scope="module")
def server(account: Account) -> Iterator[SandboxServer]:
    with SandboxServer(account) as srv:
        yield srv


@pytest.fixture()
def api(server: SandboxServer) -> requests.Session:
    return bearer_session(server.issue_token())
