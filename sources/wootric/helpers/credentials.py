"""The three ways Wootric grants a token, as dlt credentials. dlt resolves their Union to the first
class whose fields are all configured: client id and secret, then username and password, then a token."""

from typing import ClassVar, Optional, Union

from dlt.common.configuration.specs import CredentialsConfiguration, configspec
from dlt.common.typing import TSecretStrValue


@configspec
class WootricClientCredentials(CredentialsConfiguration):
    """OAuth `client_credentials` grant: an API application's id and secret."""

    grant: ClassVar[str] = "client_credentials"
    client_id: str = None
    client_secret: TSecretStrValue = None


@configspec
class WootricPasswordCredentials(CredentialsConfiguration):
    """OAuth `password` grant; `account_token` picks the account when the user has several."""

    grant: ClassVar[str] = "password"
    username: str = None
    password: TSecretStrValue = None
    account_token: Optional[str] = None


@configspec
class WootricTokenCredentials(CredentialsConfiguration):
    """An access token obtained elsewhere; with a `refresh_token` it can be renewed."""

    grant: ClassVar[str] = "access_token"
    access_token: TSecretStrValue = None
    refresh_token: Optional[TSecretStrValue] = None


WootricCredentials = Union[WootricClientCredentials, WootricPasswordCredentials, WootricTokenCredentials]
