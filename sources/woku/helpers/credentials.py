"""Woku authenticates with one company API key, sent as a bearer token."""

from dlt.common.configuration.specs import CredentialsConfiguration, configspec
from dlt.common.typing import TSecretStrValue


@configspec
class WokuCredentials(CredentialsConfiguration):
    """The company API key (Woku dashboard, Settings > API Keys)."""

    api_key: TSecretStrValue = None
