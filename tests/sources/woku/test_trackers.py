"""The tracker table's hints, whether a list or `external_tracker_values` writes it
(sources/woku/helpers/trackers.py); end to end in tests/pipelines/test_woku_tracker_values.py."""

from typing import Any, Dict

import dlt
import pytest
from dlt.extract.hints import TableNameMeta

from sandbox.hostile import HostileServer, json_answer
from sources.http_kit import ApiError
from sources.woku import woku_source
from sources.woku.helpers.client import WokuClient
from sources.woku.helpers.trackers import MARKER, is_tracker_item, tracker_values

TABLE = "external_tracker_values"
TRACKED = ("nps_tools", "csat_tools", "ces_tools", "forms", "flows", "wokus")


@pytest.fixture
def source(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("SOURCES__WOKU__CREDENTIALS__API_KEY", "x")  # building the source sends nothing
    return woku_source()


def keys(table: Dict[str, Any], hint: str) -> set:
    return {name for name, column in table["columns"].items() if column.get(hint)}


@pytest.mark.parametrize("name", [*TRACKED, TABLE])
def test_every_writer_gives_the_tracker_table_the_same_hints(source: Any, name: str) -> None:
    resource = source.resources[name]
    # a list writes the table as a variant of its own hints; the resource of that name as its own table
    meta = TableNameMeta(TABLE) if name != TABLE else None
    table = resource.compute_table_schema(meta=meta)
    assert table["name"] == TABLE
    assert (table["write_disposition"], table.get("x-merge-strategy")) == ("merge", "delete-insert")
    assert keys(table, "primary_key") == {"account", "_id"}
    # one list's load replaces that entity type's values only
    assert keys(table, "merge_key") == {"account", "entity_type"}
    # none of the list's own hints (forms' `fields`, tools' `localizedContent`) reach the table
    assert set(table["columns"]) == {"account", "entity_type", "_id", MARKER}
    # the marker row of an entity type left without values is deleted, never stored
    assert keys(table, "hard_delete") == {MARKER}


def test_a_list_keeps_its_own_hints(source: Any) -> None:
    table = source.resources["forms"].compute_table_schema()
    assert table["name"] == "forms" and keys(table, "merge_key") == {"account"}
    assert table["columns"]["fields"]["data_type"] == "json"


def test_only_the_tracker_rows_are_tracker_items() -> None:
    assert is_tracker_item(dlt.mark.with_table_name([], TABLE).meta)
    assert not is_tracker_item(dlt.mark.with_table_name([], "wokus").meta)
    assert not is_tracker_item(None)


def test_tracker_values_on_more_than_one_page_stop_the_run_instead_of_losing_the_rest() -> None:
    one_page = {"data": [{"_id": "v1", "name": "crm", "value": "1"}], "total": 2, "page": 1, "limit": 1}
    whole = {"data": [{"_id": "v1", "name": "crm", "value": "1"}], "total": 1, "page": 1, "limit": 100}
    answers = {"/v1/external-trackers/form/f1": whole, "/v1/external-trackers/wokus/w1": one_page}
    with HostileServer({"GET /": lambda r: json_answer(200, answers[r.path])}) as api:
        client = WokuClient(api.url, "key-123456")
        assert [row["_id"] for row in tracker_values(client, "acme", "form", ["f1"])] == ["v1"]
        with pytest.raises(ApiError, match="announced 2 tracker values and sent 1; .* the rest would be lost"):
            tracker_values(client, "acme", "woku", ["w1"])
