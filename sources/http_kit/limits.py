"""Bounds on what an API may make a run do: how long it waits, how much it reads, where it sends
credentials. One configspec for every vendor: `[sources.<vendor>.http]` (or `[sources.<vendor>.<account>.http]`)."""

import ipaddress
from typing import Optional
from urllib.parse import urlsplit

from dlt.common.configuration.specs import BaseConfiguration, configspec

from sources.http_kit.config import check_positive
from sources.http_kit.errors import ConfigError

#: a wait longer than this ends the run instead (a rate-limit reset years away must not stall it)
DEFAULT_MAX_WAIT_SECONDS = 300.0
#: a single answer larger than this ends the run (a body of gigabytes must not take the memory)
DEFAULT_MAX_RESPONSE_MB = 64.0
#: redirects followed in a row before giving up on a request
MAX_REDIRECTS = 5
REDIRECTS = (301, 302, 303, 307, 308)


@configspec
class HttpLimits(BaseConfiguration):
    max_wait_seconds: float = DEFAULT_MAX_WAIT_SECONDS
    #: the whole run's budget for the API, from the client's start; None: no deadline
    deadline_seconds: Optional[float] = None
    max_response_mb: float = DEFAULT_MAX_RESPONSE_MB
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
