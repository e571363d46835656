"""Checks every setting before a request is made, so a typo stops the run with the setting's name."""

import re
from datetime import date, datetime, timezone
from typing import Any, Optional
from urllib.parse import urlsplit

from sources.http_kit import ConfigError
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
        text = str(base_url).strip()
        try:
            parts = urlsplit(text)
            parts.port  # noqa: B018 - raises ValueError on a malformed port
            ok = parts.scheme in ("http", "https") and bool(parts.hostname) and not any(c.isspace() for c in text)
        except ValueError:
            ok = False
        if not ok:
            raise ConfigError(f"{SECTION}.base_url: {_redact_url(text)!r} is not an http(s) URL")
        return text.rstrip("/")
    return REGION_HOSTS[region or token_region or "us"]


def parse_start_date(value: Any) -> Optional[datetime]:
    """An ISO date or datetime (UTC unless it names an offset); None means all history."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    text = str(value).strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{SECTION}.start_date: {text!r} is not an ISO date such as 2024-01-31") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


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
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = -1.0
    if number <= 0:
        raise ConfigError(f"{SECTION}.{name}: {value!r} is not a positive number")
    return number


def _redact_url(text: str) -> str:
    """A URL without the password a proxy URL may carry."""
    if "@" in text:
        scheme, _, rest = text.rpartition("://")
        return f"{scheme}://***@{rest.split('@', 1)[1]}" if scheme else "***@" + text.split("@", 1)[1]
    return text


def check_non_negative(name: str, value: Any) -> int:
    """A whole number of days (or the like) that may be zero."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        number = -1
    if number < 0 or isinstance(value, bool):
        raise ConfigError(f"{SECTION}.{name}: {value!r} is not a whole number of 0 or more")
    return number


ACCOUNT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def check_account(value: Any) -> str:
    """An account name is a table value and a dlt source (schema) name: lower case, digits, underscores."""
    text = str(value).strip() if value is not None else ""
    if not ACCOUNT_NAME.match(text):
        raise ConfigError(
            f"{SECTION}.account: {value!r} is not an account name (lower-case letters, digits and _, 1-40 characters,"
            " starting with a letter)"
        )
    return text
