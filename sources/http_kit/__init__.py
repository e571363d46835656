"""Vendor-neutral HTTP plumbing: auth, pacing, retries and errors, written once for every source."""

from sources.http_kit.auth import StaticBearerAuth, Token, TokenAuth, TokenStore
from sources.http_kit.client import ApiClient, client_settings
from sources.http_kit.errors import (
    ApiError,
    ApiUnavailableError,
    AuthError,
    ConfigError,
    SourceError,
)
from sources.http_kit.pacing import RateLimitPacer, RetryPolicy
from sources.http_kit.redact import install_log_redaction, one_line, redact, register_secret

__all__ = [
    "ApiClient",
    "ApiError",
    "ApiUnavailableError",
    "AuthError",
    "ConfigError",
    "RateLimitPacer",
    "RetryPolicy",
    "SourceError",
    "StaticBearerAuth",
    "Token",
    "TokenAuth",
    "TokenStore",
    "client_settings",
    "install_log_redaction",
    "one_line",
    "redact",
    "register_secret",
]
