"""The registry's static facts agree with the sources they describe."""

import pytest

from pipelines.vendors import VENDORS


@pytest.mark.parametrize("name", sorted(VENDORS))
def test_declared_resources_are_the_sources_own(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    vendor = VENDORS[name]
    for key in vendor.credential_keys:  # any value: building the source sends nothing
        monkeypatch.setenv(f"SOURCES__{name.upper()}__CREDENTIALS__{key.upper()}", "x")
    monkeypatch.setenv("SOURCES__WOOTRIC__CREDENTIALS__CLIENT_SECRET", "y")
    source = vendor.source()
    assert vendor.resources == tuple(source.resources)
    history_off = [r for r in vendor.resources if r not in vendor.default_excluded and r not in vendor.history]
    assert history_off == list(source.selected_resources)


def test_woku_tracker_values_load_in_the_tasks_of_the_lists_that_read_them() -> None:
    """The Airflow DAG makes one task per resource, the default-excluded and history ones aside
    (pipelines/airflow_dag.py). The six lists yield their own tracker values; a task of
    `external_tracker_values` would page all six again, so there is none."""
    vendor = VENDORS["woku"]
    tasks = [r for r in vendor.resources if r not in vendor.default_excluded and r not in vendor.history]
    assert "external_tracker_values" in vendor.resources  # still a name for --resources
    assert "external_tracker_values" not in tasks
    assert {"nps_tools", "csat_tools", "ces_tools", "forms", "flows", "wokus"} <= set(tasks)
