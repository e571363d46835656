"""Wootric's three grants, renewal before expiry and after a 401, over real HTTP against the sandbox."""

import logging

import pytest
import requests

from sandbox.wootric import generate_account
from sources.http_kit import AuthError
from sources.wootric.helpers.client import WootricClient
from sources.wootric.helpers.credentials import (
    WootricClientCredentials,
    WootricPasswordCredentials,
    WootricTokenCredentials,
)


@pytest.fixture
def server(start_sandbox):
    return start_sandbox(generate_account(seed=1, end_users=20, responses=60, declines=5), token_ttl=7200)


def first_page(client: WootricClient) -> list:
    return client.list_page("responses", {"sort_order": "asc"}, 1)


def test_client_credentials(server) -> None:
    creds = WootricClientCredentials(client_id=server.client_id, client_secret=server.client_secret)
    assert len(first_page(WootricClient(server.url, creds, per_page=50))) == 50


def test_password_with_account_token(server) -> None:
    creds = WootricPasswordCredentials(
        username=server.username, password=server.password, account_token=server.account_token
    )
    client = WootricClient(server.url, creds, per_page=10)
    assert len(first_page(client)) == 10


def test_access_token_alone_works_until_rejected(server) -> None:
    client = WootricClient(server.url, WootricTokenCredentials(access_token=server.issue_token()), per_page=5)
    assert len(first_page(client)) == 5
    server.expire_tokens()
    with pytest.raises(AuthError, match="no refresh_token"):
        first_page(client)


def test_access_token_with_refresh_token_renews_after_401(server) -> None:
    grant = requests.post(
        server.url + "/oauth/token",
        data={"grant_type": "password", "username": server.username, "password": server.password},
    ).json()
    creds = WootricTokenCredentials(access_token=grant["access_token"], refresh_token=grant["refresh_token"])
    client = WootricClient(server.url, creds, per_page=5)
    assert len(first_page(client)) == 5
    server.expire_tokens()
    assert len(first_page(client)) == 5
    assert server.stats()["status_counts"].get(401) == 1
    assert client.auth.renewals == 2


def test_token_is_renewed_before_it_expires(start_sandbox) -> None:
    # a 2-hour token; our clock moves, the server's does not: only a renewal ahead of expiry asks again
    server = start_sandbox(generate_account(seed=1, end_users=5, responses=20, declines=5), token_ttl=7200)
    creds = WootricClientCredentials(client_id=server.client_id, client_secret=server.client_secret)
    now = [1_000_000.0]
    client = WootricClient(server.url, creds, per_page=5, clock=lambda: now[0])
    first_page(client)
    now[0] += 7200 - 301  # just outside the 5-minute margin: the token is still used
    first_page(client)
    assert server.stats()["token_requests"] == 1
    now[0] += 2  # inside the margin: renewed before the request, not after a 401
    first_page(client)
    stats = server.stats()
    assert stats["token_requests"] == 2
    assert stats["status_counts"].get(401, 0) == 0


@pytest.mark.parametrize(
    "creds",
    [
        WootricClientCredentials(client_id="sandbox-client", client_secret="s3cret-wrong-value"),
        WootricPasswordCredentials(username="analyst@example.com", password="s3cret-wrong-value"),
        WootricPasswordCredentials(
            username="analyst@example.com", password="sandbox-password", account_token="NPS-other"
        ),
    ],
)
def test_wrong_credentials_fail_in_one_line_without_the_secret(server, creds, caplog) -> None:
    client = WootricClient(server.url, creds, per_page=5)
    with caplog.at_level(logging.DEBUG), pytest.raises(AuthError) as err:
        client.auth.current_token()
    message = str(err.value)
    assert "rejected the credentials" in message and "\n" not in message
    everything = message + repr(err.value) + caplog.text
    assert "s3cret-wrong-value" not in everything and "sandbox-password" not in everything


def test_a_spent_refresh_token_is_replaced_by_the_stored_one_on_the_next_run(server, tmp_path) -> None:
    grant = requests.post(
        server.url + "/oauth/token",
        data={"grant_type": "password", "username": server.username, "password": server.password},
    ).json()
    creds = WootricTokenCredentials(access_token=grant["access_token"], refresh_token=grant["refresh_token"])

    first_run = WootricClient(server.url, creds, per_page=5, token_dir=str(tmp_path))
    server.expire_tokens()
    assert len(first_page(first_run)) == 5  # spends the configured refresh token
    stored = list(tmp_path.iterdir())
    assert len(stored) == 1 and oct(stored[0].stat().st_mode & 0o777) == "0o600"

    server.expire_tokens()
    next_run = WootricClient(server.url, creds, per_page=5, token_dir=str(tmp_path))
    assert len(first_page(next_run)) == 5, "the rotated refresh token from the first run renews this one"

    server.expire_tokens()
    without_store = WootricClient(server.url, creds, per_page=5)
    with pytest.raises(AuthError, match="refresh tokens are single-use"):
        first_page(without_store)
