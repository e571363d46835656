"""The three ways Wootric grants a token, as dlt credentials; the source accepts their union.

dlt resolves a Union by trying each class in order and taking the first whose fields are all
configured, so `client_id`+`client_secret` wins over `username`+`password`, which wins over a
bare `access_token`.
"""

from typing import Optional, Union

from dlt.common.configuration.specs import CredentialsConfiguration, configspec
from dlt.common.typing import TSecretStrValue


@configspec
class WootricClientCredentials(CredentialsConfiguration):
    """OAuth `client_credentials` grant: an API application's id and secret."""

    client_id: str = None
    client_secret: TSecretStrValue = None

    @property
    def grant(self) -> str:
        return "client_credentials"


@configspec
class WootricPasswordCredentials(CredentialsConfiguration):
    """OAuth `password` grant; `account_token` picks the account when the user has several."""

    username: str = None
    password: TSecretStrValue = None
    account_token: Optional[str] = None

    @property
    def grant(self) -> str:
        return "password"


@configspec
class WootricTokenCredentials(CredentialsConfiguration):
    """An access token obtained elsewhere; with a `refresh_token` it can be renewed."""

    access_token: TSecretStrValue = None
    refresh_token: Optional[TSecretStrValue] = None

    @property
    def grant(self) -> str:
        return "access_token"


WootricCredentials = Union[WootricClientCredentials, WootricPasswordCredentials, WootricTokenCredentials]
