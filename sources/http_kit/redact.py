"""One redaction for the whole process: every configured secret and every issued token is registered
here once, and every message, log line and stored outcome passes through `redact`.

A process-wide registry is deliberate: a secret known to one part (the auth of one account) must be
hidden from every other part (a log line of dlt, an error printed by the CLI, an outcome row).
"""

import logging
import threading
from typing import Any, Iterable, Optional

MASK = "***"
#: shorter values (`1`, `true`) would mask ordinary text; no real credential is this short
MIN_SECRET_LENGTH = 6

_lock = threading.Lock()
_secrets: "set[str]" = set()
_ordered: "list[str]" = []


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


def registered() -> Iterable[str]:
    """The registered values (for tests that check nothing leaked)."""
    return tuple(_ordered)


class RedactingFilter(logging.Filter):
    """Redacts a record's final message; attach it to handlers so every logger's lines pass through."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _ordered:
            message = record.getMessage()
            cleaned = redact(message)
            if cleaned != message or record.exc_info:
                record.msg, record.args = cleaned, None
                if record.exc_info:
                    record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
                    record.exc_info = None
        return True


def install_log_redaction(*loggers: logging.Logger) -> None:
    """Put the filter on the handlers of these loggers (root and dlt's by default), once each."""
    targets = loggers or (logging.getLogger(), logging.getLogger("dlt"))
    for lg in targets:
        for handler in lg.handlers:
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(RedactingFilter())


def one_line(text: Any) -> str:
    """Redacted, with every run of white space (newlines included) folded to one space."""
    return " ".join(redact(text).split())
