"""One redaction for the whole process: every configured secret and issued token is registered once,
and every message, log line and stored outcome passes through `redact`. Process-wide on purpose: a
secret one part knows (an account's auth) must be hidden from every other (dlt's logs, the CLI)."""

import logging
import re
import threading
from typing import Any, Optional

MASK = "***"
#: shorter values (`1`, `true`) would mask ordinary text; no real credential is this short
MIN_SECRET_LENGTH = 6

_lock = threading.Lock()
_secrets: "set[str]" = set()
_ordered: "list[str]" = []
_installed = False
#: scheme, authority (up to `/`, `?` or `#`, as urlsplit reads it) and path
_URL = re.compile(r"^([^:/?#]+://)?([^/?#]*)([^?#]*)")


def register_secret(*values: Optional[Any]) -> None:
    """Hide these values (and their str()) from every later message and log line."""
    with _lock:
        for value in values:
            text = str(value) if value is not None else ""
            if len(text) >= MIN_SECRET_LENGTH and text not in _secrets:
                _secrets.add(text)
                # longest first, so a secret that contains another is masked whole
                _ordered[:] = sorted(_secrets, key=len, reverse=True)


def redact(text: Any) -> str:
    """`text` with every registered secret replaced by `***`."""
    out = str(text)
    for secret in list(_ordered):
        if secret in out:
            out = out.replace(secret, MASK)
    return out


def one_line(text: Any) -> str:
    """Redacted, with every run of white space (newlines included) folded to one space."""
    return " ".join(redact(text).split())


def redact_url(url: str) -> str:
    """What messages show of a URL, even a malformed one: no `user:password@` (a proxy URL's), no query."""
    scheme, authority, path = _URL.match(url).groups()  # type: ignore[union-attr] # matches any text
    return f"{scheme or ''}{authority.rpartition('@')[2]}{path.rstrip('/')}"


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """The record's final message and traceback text, redacted in place."""
    if _ordered:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            # handlers' formatters use this text as it is instead of formatting the traceback again
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    return record


def install_log_redaction() -> None:
    """Redact every log record of the process as it is created, whichever logger or handler (dlt's
    included) emits it. Safe to call again."""
    global _installed
    with _lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            return redact_record(previous(*args, **kwargs))

        logging.setLogRecordFactory(factory)
        _installed = True
