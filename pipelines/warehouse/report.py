"""`wootric_pipeline.py report`: the NPS report (PNG and HTML) from an already loaded dataset."""

import argparse
from pathlib import Path

import dlt
from dlt.destinations.exceptions import DatabaseUndefinedRelation

from analytics.report import write_report
from pipelines.warehouse.destinations import DEFAULT_DUCKDB_FILE, DEMO_DUCKDB_FILE, destination_for
from pipelines.warehouse.lake import LAKE_CATALOG, catalog_client
from pipelines.warehouse.views import VIEW_DIALECTS
from sources.http_kit import ConfigError


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", type=Path, default=Path("."), help="directory to write nps_report.* into")
    parser.add_argument("--demo", action="store_true", help=f"read what `--demo` loaded into {DEMO_DUCKDB_FILE}")


def report(args: argparse.Namespace) -> int:
    """Write the NPS report from the analyst views of an already loaded dataset."""
    duckdb_file = DEMO_DUCKDB_FILE if args.demo else DEFAULT_DUCKDB_FILE
    if args.destination not in (*VIEW_DIALECTS, "filesystem"):
        raise ConfigError(f"--destination {args.destination}: the report reads the analyst views, not built there")
    if args.destination == "filesystem":  # the lake: its views are in the DuckDB catalog (lake.py)
        if not Path(LAKE_CATALOG).exists():
            raise ConfigError(f"no {LAKE_CATALOG} in this directory: run the pipeline into the lake first")
        client = catalog_client(args.dataset_name)
    else:
        client = dlt.pipeline(
            pipeline_name=args.pipeline_name,
            destination=destination_for(args.destination, args.dataset_name, duckdb_file),
            dataset_name=args.dataset_name,
        ).sql_client()
    with client as sql:
        dataset = sql.fully_qualified_dataset_name()
        try:
            sql.execute_sql(f"SELECT 1 FROM {dataset}.nps_monthly LIMIT 1")
        except DatabaseUndefinedRelation:
            raise ConfigError(
                f"no NPS views in {args.destination} dataset {args.dataset_name!r}: run the pipeline first"
            ) from None
        png, page = write_report(sql, dataset, args.output)
    print(f"wrote {png} and {page}")
    return 0
