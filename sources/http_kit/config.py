"""Setting checks every source shares: each names the key it rejects, and never echoes a password."""

import re
from datetime import date, datetime, timezone
from typing import Any, Optional
from urllib.parse import urlsplit

from sources.http_kit.errors import ConfigError
from sources.http_kit.redact import redact_url

ACCOUNT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def parse_start_date(value: Any, key: str) -> Optional[datetime]:
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
        raise ConfigError(f"{key}: {text!r} is not an ISO date such as 2024-01-31") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def check_http_url(value: Any, key: str) -> str:
    """An http(s) URL without its trailing slash."""
    text = str(value).strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
        ok = parts.scheme in ("http", "https") and bool(parts.hostname) and not any(c.isspace() for c in text)
    except ValueError:
        ok = False
    if not ok:
        raise ConfigError(f"{key}: {redact_url(text)!r} is not an http(s) URL")
    return text.rstrip("/")


def check_positive(value: Any, key: str, whole: bool = False) -> float:
    """A number above 0; `whole` for a count (`max_retries`): then 0.5 is refused, not rounded to 0."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = -1.0
    if not number > 0 or isinstance(value, bool) or (whole and not number.is_integer()):
        raise ConfigError(f"{key}: {value!r} is not a positive {'whole number' if whole else 'number'}")
    return number


def check_non_negative(value: Any, key: str) -> int:
    """A whole number of days (or the like) that may be zero."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        number = -1
    if number < 0 or isinstance(value, bool):
        raise ConfigError(f"{key}: {value!r} is not a whole number of 0 or more")
    return number


def check_account(value: Any, key: str) -> str:
    """An account name is a table value and a dlt source (schema) name: lower case, digits, underscores."""
    text = str(value).strip() if value is not None else ""
    if not ACCOUNT_NAME.match(text):
        raise ConfigError(
            f"{key}: {value!r} is not an account name (lower-case letters, digits and _, 1-40 characters,"
            " starting with a letter)"
        )
    return text
