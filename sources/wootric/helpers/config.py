"""Checks every setting before a request is made, so a typo stops the run with the setting's name."""

from datetime import datetime
from typing import Any, Optional

from sources.http_kit import ConfigError, config
from sources.wootric.helpers.credentials import WootricCredentials, WootricPasswordCredentials
from sources.wootric.settings import MAX_PER_PAGE, REGION_HOSTS, REGION_TOKEN_PREFIXES

SECTION = "sources.wootric"


def resolve_base_url(region: Optional[str], base_url: Optional[str], credentials: WootricCredentials) -> str:
    """`base_url` wins (proxies, tests); else the region's host, the region named or read from the account token."""
    token_region = None
    if isinstance(credentials, WootricPasswordCredentials) and credentials.account_token:
        token_region = next(
            (r for prefix, r in REGION_TOKEN_PREFIXES.items() if credentials.account_token.upper().startswith(prefix)),
            "us",
        )
    if region is not None:
        region = str(region).strip().lower()
        if region not in REGION_HOSTS:
            raise ConfigError(
                f"{SECTION}.region: unknown region {region!r} (expected one of: {', '.join(REGION_HOSTS)})"
            )
        if token_region is not None and token_region != region:
            raise ConfigError(
                f"{SECTION}.region: {region!r} contradicts the account token, which belongs to region {token_region!r}"
            )
    if base_url:
        return config.check_http_url(base_url, f"{SECTION}.base_url")
    return REGION_HOSTS[region or token_region or "us"]


def parse_start_date(value: Any, setting: str = "start_date") -> Optional[datetime]:
    return config.parse_start_date(value, f"{SECTION}.{setting}")


def check_per_page(value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = None
    if (
        number is None
        or isinstance(value, bool)
        or str(number) != str(value).strip()
        or not 1 <= number <= MAX_PER_PAGE
    ):
        raise ConfigError(f"{SECTION}.per_page: {value!r} is not a whole number from 1 to {MAX_PER_PAGE}")
    return number


def check_positive(name: str, value: Any) -> float:
    return config.check_positive(value, f"{SECTION}.{name}")


def check_non_negative(name: str, value: Any) -> int:
    return config.check_non_negative(value, f"{SECTION}.{name}")


def check_account(value: Any) -> str:
    return config.check_account(value, f"{SECTION}.account")
