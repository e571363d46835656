"""BigQuery without a cloud account: the layout hints and JSON values reach dlt's schema and the load package
it would send (the emulator ignores partitioning and clustering: tests/pipelines/test_bigquery_emulator.py)."""

import json
from pathlib import Path

import dlt
from dlt.common.storages.file_storage import FileStorage

from pipelines.runner.accounts import make_source
from pipelines.runner.sync import apply_bigquery_layout
from pipelines.vendors import WOOTRIC
from sandbox.wootric import generate_account
from sources.wootric.settings import BIGQUERY_LAYOUT


def use_sandbox(monkeypatch, server) -> None:
    monkeypatch.setenv("SOURCES__WOOTRIC__BASE_URL", server.url)
    monkeypatch.setenv("SOURCES__WOOTRIC__CREDENTIALS__CLIENT_ID", server.client_id)
    monkeypatch.setenv("SOURCES__WOOTRIC__CREDENTIALS__CLIENT_SECRET", server.client_secret)


def test_partition_and_cluster_hints_reach_the_load_package(workdir: Path, start_sandbox, monkeypatch) -> None:
    account = generate_account(seed=51, end_users=60, responses=400, declines=40)
    server = start_sandbox(account)
    use_sandbox(monkeypatch, server)
    pipeline = dlt.pipeline("bq_layout", destination="bigquery", dataset_name="wootric", pipelines_dir=str(workdir))
    pipeline.extract(apply_bigquery_layout(WOOTRIC, make_source(WOOTRIC, None, None)))
    pipeline.normalize()

    (load_id,) = pipeline.list_normalized_load_packages()
    package = pipeline.get_load_package_info(load_id)
    # the hints must be in the package's own schema: that is what the load step sends to BigQuery
    sent = package.schema.tables
    for table, layout in BIGQUERY_LAYOUT.items():
        columns = sent[table]["columns"]
        assert columns[layout["partition"]].get("x-bigquery-partition") is True, table
        assert columns[layout["partition"]]["data_type"] == "timestamp"
        for column in layout["cluster"]:
            assert columns[column].get("x-bigquery-cluster") is True, (table, column)
        unclustered = set(columns) - set(layout["cluster"])
        assert not any(columns[c].get("x-bigquery-cluster") for c in unclustered), table
    jobs = {job.job_file_info.table_name: job for job in package.jobs["new_jobs"]}
    # dlt's BigQuery loader takes JSON columns from jsonl only, and each must hold the JSON value, not its text
    assert {jobs[t].job_file_info.file_format for t in BIGQUERY_LAYOUT} == {"jsonl"}
    with FileStorage.open_zipsafe_ro(jobs["responses"].file_path) as f:
        rows = [json.loads(line) for line in f]
    truth = {r["id"]: r for r in account.truth("responses")}
    assert len(rows) == 400
    for row in rows:
        assert row["tags"] == truth[row["id"]]["tags"], row["id"]
        assert row["end_user__properties"] == truth[row["id"]]["end_user"]["properties"], row["id"]
    rows = pipeline.last_trace.last_normalize_info.row_counts
    assert rows["responses"] == 400 and rows["declines"] == 40 and rows["end_users"] == 60


def test_other_destinations_get_no_bigquery_hints(workdir: Path, start_sandbox, monkeypatch) -> None:
    server = start_sandbox(generate_account(seed=52, end_users=10, responses=30, declines=5))
    use_sandbox(monkeypatch, server)
    pipeline = dlt.pipeline("dd_layout", destination="duckdb", dataset_name="w", pipelines_dir=str(workdir))
    pipeline.extract(make_source(WOOTRIC, None, None))
    columns = pipeline.default_schema.tables["responses"]["columns"]
    assert not any(k.startswith("x-bigquery") for col in columns.values() for k in col)
