"""Setting checks name the key they reject."""

import pytest

from sources.http_kit import ConfigError
from sources.http_kit.config import check_positive


def test_a_positive_number_may_be_a_fraction_unless_it_counts_something() -> None:
    assert check_positive(0.5, "s.request_timeout") == 0.5
    assert check_positive("6", "s.max_retries", whole=True) == 6.0
    for value in (0, -1, "abc", None, float("nan"), True):
        with pytest.raises(ConfigError, match="s.request_timeout: .* is not a positive number"):
            check_positive(value, "s.request_timeout")
    for value in (0.5, True, "2.5"):
        with pytest.raises(ConfigError, match="s.max_retries: .* is not a positive whole number"):
            check_positive(value, "s.max_retries", whole=True)
