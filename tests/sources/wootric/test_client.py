import pytest

from sources.http_kit import ConfigError, config
from sources.wootric import wootric_source
from sources.wootric.helpers.client import check_per_page, resolve_base_url
from sources.wootric.helpers.credentials import WootricClientCredentials, WootricPasswordCredentials


def password(account_token: str | None = None) -> WootricPasswordCredentials:
    creds = WootricPasswordCredentials()
    creds.username, creds.password, creds.account_token = "a@example.com", "pw", account_token
    return creds


def test_region_hosts() -> None:
    creds = WootricClientCredentials()
    assert resolve_base_url(None, None, creds) == "https://api.wootric.com"
    assert resolve_base_url("EU", None, creds) == "https://api.wootric.eu"
    assert resolve_base_url("au", None, creds) == "https://api.wootric.au"


def test_region_read_from_the_account_token() -> None:
    assert resolve_base_url(None, None, password("NPS-EU-12ab")) == "https://api.wootric.eu"
    assert resolve_base_url(None, None, password("NPS-AU12ab")) == "https://api.wootric.au"
    assert resolve_base_url(None, None, password("NPS-12ab")) == "https://api.wootric.com"


def test_base_url_overrides_the_region() -> None:
    assert resolve_base_url("eu", "http://127.0.0.1:8080/", password()) == "http://127.0.0.1:8080"


@pytest.mark.parametrize(
    "region, base_url, creds, setting",
    [
        ("mars", None, WootricClientCredentials(), "sources.wootric.region"),
        ("us", None, password("NPS-EU-1"), "sources.wootric.region"),
        (None, "ftp://host", WootricClientCredentials(), "sources.wootric.base_url"),
        (None, "api.wootric.com", WootricClientCredentials(), "sources.wootric.base_url"),
    ],
)
def test_bad_region_or_url_names_the_setting(region, base_url, creds, setting) -> None:
    with pytest.raises(ConfigError, match=setting.replace(".", r"\.")):
        resolve_base_url(region, base_url, creds)


@pytest.mark.parametrize("value", [0, 51, -1, "ten", "2.5", True, None])
def test_per_page_outside_1_to_50_is_refused(value) -> None:
    with pytest.raises(ConfigError, match="sources.wootric.per_page"):
        check_per_page(value)


def test_per_page_accepts_strings_from_env() -> None:
    assert check_per_page("25") == 25
    assert check_per_page(50) == 50


def source_error(**settings) -> str:
    with pytest.raises(Exception) as raised:
        wootric_source(
            credentials=WootricClientCredentials(client_id="id", client_secret="s"),
            base_url="http://127.0.0.1:9",
            **settings,
        )
    return str(raised.value)


@pytest.mark.parametrize("value", ["2024-13-01", "yesterday", "01/02/2024"])
def test_malformed_start_date_names_the_setting(value) -> None:
    assert f"sources.wootric.start_date: {value!r}" in source_error(start_date=value)


def test_a_malformed_metrics_start_date_is_named_as_itself() -> None:
    message = source_error(metrics_start_date="31/01/2024")
    assert "sources.wootric.metrics_start_date: '31/01/2024'" in message, message


@pytest.mark.parametrize("value", [2.5, "0.5", 0, True])
def test_max_retries_must_be_a_positive_whole_number(value) -> None:
    assert "sources.wootric.max_retries" in source_error(max_retries=value)


def test_start_date_is_utc_midnight_unless_it_says_otherwise() -> None:
    def parse_start_date(value):
        return config.parse_start_date(value, "sources.wootric.start_date")  # what `wootric_source` calls

    assert parse_start_date("2024-01-31").isoformat() == "2024-01-31T00:00:00+00:00"
    assert parse_start_date("2024-01-31T10:00:00+02:00").isoformat() == "2024-01-31T10:00:00+02:00"
    assert parse_start_date(None) is None


@pytest.mark.parametrize("url", ["http://[::1", "http://exa mple.com", "http://host:99999", "http://"])
def test_malformed_base_url_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError, match="sources.wootric.base_url"):
        resolve_base_url(None, url, WootricClientCredentials())


def test_proxy_password_in_base_url_is_not_echoed() -> None:
    with pytest.raises(ConfigError) as err:
        resolve_base_url(None, "ftp://user:pr0xy-pw@host", WootricClientCredentials())
    assert "pr0xy-pw" not in str(err.value)
