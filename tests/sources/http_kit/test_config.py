"""Setting checks name the key they reject; clear text only on loopback."""

import pytest

from sources.http_kit import ApiClient, ConfigError
from sources.http_kit.config import HttpLimits, check_positive, check_transport


def test_a_positive_number_may_be_a_fraction_unless_it_counts_something() -> None:
    assert check_positive(0.5, "s.request_timeout") == 0.5
    assert check_positive("6", "s.max_retries", whole=True) == 6.0
    for value in (0, -1, "abc", None, float("nan"), True):
        with pytest.raises(ConfigError, match="s.request_timeout: .* is not a positive number"):
            check_positive(value, "s.request_timeout")
    for value in (0.5, True, "2.5"):
        with pytest.raises(ConfigError, match="s.max_retries: .* is not a positive whole number"):
            check_positive(value, "s.max_retries", whole=True)


def test_clear_text_is_allowed_to_loopback_only_and_https_anywhere() -> None:
    urls = {
        "http://127.0.0.1:9": True,
        "http://127.8.9.10": True,
        "http://localhost:9": True,
        "http://LOCALHOST": True,
        "http://[::1]:9": True,
        "https://api.example": True,
        "https://10.1.2.3": True,
        # look-alikes of loopback that are other hosts
        "http://localhost.example": False,
        "http://127.0.0.1.nip.io": False,
        "http://0.0.0.0": False,
        "http://[::2]": False,
    }
    allowed = {}
    for url in urls:
        try:
            check_transport(url, HttpLimits(), "sources.acme")
            allowed[url] = True
        except ConfigError:
            allowed[url] = False
    assert allowed == urls


def test_clear_text_elsewhere_needs_the_setting() -> None:
    with pytest.raises(ConfigError, match="sources.acme.http.allow_insecure_http"):
        check_transport("http://10.1.2.3", HttpLimits(), "sources.acme")
    check_transport("http://10.1.2.3", HttpLimits(allow_insecure_http=True), "sources.acme")
    with pytest.raises(ConfigError):
        ApiClient("http://api.example.invalid", section="sources.acme")  # refused before any connection
