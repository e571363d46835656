"""The settings every source shares, each checked with the key it rejects (never echoing a password):
dates, URLs, numbers, account names, and `HttpLimits`, the bounds on what an API may make a run do
(`[sources.<vendor>.http]` or `[sources.<vendor>.<account>.http]`)."""

import ipaddress
import re
from datetime import date, datetime, timezone
from typing import Any, Optional
from urllib.parse import urlsplit

from dlt.common.configuration.specs import BaseConfiguration, configspec

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


@configspec
class HttpLimits(BaseConfiguration):
    #: a wait longer than this ends the run instead (a rate-limit reset years away must not stall it)
    max_wait_seconds: float = 300.0
    #: the whole run's budget for the API, from the client's start; None: no deadline
    deadline_seconds: Optional[float] = None
    #: a single answer larger than this ends the run (a body of gigabytes must not take the memory)
    max_response_mb: float = 64.0
    #: send credentials over http:// to a host other than this machine's loopback
    allow_insecure_http: bool = False

    def checked(self, section: str) -> "HttpLimits":
        """These limits, refused with the key's name when a value makes no sense. Not `on_resolved`:
        that does not know the section its messages must name (`sources.woku.http.max_wait_seconds`)."""
        for key in ("max_wait_seconds", "max_response_mb") + (("deadline_seconds",) if self.deadline_seconds else ()):
            setattr(self, key, check_positive(getattr(self, key), f"{section}.http.{key}"))
        return self

    @property
    def max_response_bytes(self) -> int:
        return int(self.max_response_mb * 1024 * 1024)


def check_transport(base_url: str, limits: HttpLimits, section: str) -> None:
    """Refuse clear-text http:// to any host but loopback before a connection is made: it would send
    the client secret, the password or the API key unencrypted."""
    parts = urlsplit(base_url)
    if parts.scheme != "http" or limits.allow_insecure_http or is_loopback(parts.hostname or ""):
        return
    raise ConfigError(
        f"{section}.base_url: http:// to {parts.hostname} would send the credentials in clear text; use https://"
        f" (or set {section}.http.allow_insecure_http = true)"
    )


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
