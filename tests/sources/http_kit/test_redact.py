"""One redaction for the process: registered secrets leave every message and log line."""

import io
import logging
import sys

from sources.http_kit import install_log_redaction, one_line, redact, register_secret
from sources.http_kit.redact import redact_record, redact_url


def test_registered_secrets_are_masked_longest_first() -> None:
    register_secret("abcdef-secret", "abcdef-secret-longer", None, "", "123")
    assert redact("x abcdef-secret-longer y abcdef-secret") == "x *** y ***"
    assert redact("123 stays: too short to be a credential") == "123 stays: too short to be a credential"


def test_one_line_folds_whitespace_after_redaction() -> None:
    register_secret("tok-9876543")
    assert one_line("a\n  b\ttok-9876543\r\n") == "a b ***"


def test_a_log_record_is_masked_in_its_arguments_and_traceback() -> None:
    register_secret("pw-in-a-log-line")
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "login with %s", ("pw-in-a-log-line",), None)
    try:
        raise ValueError("pw-in-a-log-line")
    except ValueError:
        record.exc_info = sys.exc_info()
    assert redact_record(record) is record
    assert record.getMessage() == "login with ***"
    assert "pw-in-a-log-line" not in record.exc_text and "ValueError: ***" in record.exc_text


def test_every_logger_of_the_process_is_redacted_once_installed() -> None:
    register_secret("dlt-logged-secret-1")
    stream = io.StringIO()
    dlt_like = logging.getLogger("dlt_like_test")
    dlt_like.propagate = False  # like dlt's logger: its own handler, nothing passed up to the root
    handler = logging.StreamHandler(stream)
    dlt_like.addHandler(handler)
    try:
        install_log_redaction()
        install_log_redaction()  # a second call changes nothing
        dlt_like.warning("token %s", "dlt-logged-secret-1")
        try:
            raise RuntimeError("failed with dlt-logged-secret-1")
        except RuntimeError:
            dlt_like.exception("boom")
    finally:
        dlt_like.removeHandler(handler)
    text = stream.getvalue()
    assert "dlt-logged-secret-1" not in text
    assert "token ***" in text and "RuntimeError: failed with ***" in text


def test_urls_in_messages_lose_proxy_credentials_and_query_even_when_malformed() -> None:
    assert redact_url("http://user:pr0xy-pw@127.0.0.1:99/api/") == "http://127.0.0.1:99/api"
    assert redact_url("ftp://user:pr0xy-pw@host") == "ftp://host"
    assert redact_url("https://api.example/v1?token=t0k") == "https://api.example/v1"
    assert redact_url("http://u:pw@[::1") == "http://[::1"
