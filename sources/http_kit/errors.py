"""Errors a user can act on: each carries a one-line message and the exit status a CLI should use.

Messages are built by us, never copied from a request, so they cannot carry tokens or passwords.
"""


class SourceError(Exception):
    """An expected failure that a pipeline reports in one line, without a traceback."""

    exit_code = 1


class ConfigError(SourceError):
    """A setting is missing or invalid; nothing was requested or written."""

    exit_code = 2


class AuthError(SourceError):
    """The API refused the credentials."""

    exit_code = 3


class ApiError(SourceError):
    """The API answered with an error that retrying cannot fix (4xx other than 401/429)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class ApiUnavailableError(ApiError):
    """The API kept failing (5xx, resets, timeouts, bad bodies) after every retry."""

    exit_code = 4
