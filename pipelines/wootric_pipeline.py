"""Wootric → warehouse. `python pipelines/wootric_pipeline.py --help`.

Configuration comes from dlt (`.dlt/*.toml` or environment variables such as
SOURCES__WOOTRIC__CREDENTIALS__CLIENT_ID); this script only wires it to a pipeline run.
"""

import argparse
import logging
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import dlt
from dlt.destinations.adapters import bigquery_adapter
from dlt.destinations.exceptions import DatabaseUndefinedRelation
from dlt.pipeline.helpers import pipeline_drop

from analytics.feedback_all import create_feedback_all, datasets, drop_feedback_all
from analytics.wootric_nps import create_nps_views, drop_nps_views
from pipelines.cli import FailureWithStatus, SyncResult, add_common_options, explain, print_counts, row_counts, run_cli
from pipelines.warehouse import DEFAULT_DUCKDB_FILE, LOADER_FILE_FORMAT, bound_extract_buffers, destination_for
from sources.http_kit import ConfigError
from sources.wootric import wootric_source
from sources.wootric.helpers.config import check_account, parse_start_date
from sources.wootric.settings import BIGQUERY_LAYOUT, STREAMS

logger = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wootric-pipeline", description="Sync Wootric end users, responses and declines."
    )
    parser.add_argument(
        "command",
        nargs="?",
        choices=("run", "report"),
        default="run",
        help="run: sync (default); report: write nps_report.png and nps_report.html from the warehouse",
    )
    add_common_options(parser, "wootric")
    parser.add_argument("--output", type=Path, default=Path("."), help="report: directory to write into")
    return parser


def make_source(resources: Optional[str], start_date: Optional[str], **overrides: Any) -> Any:
    """The Wootric source (one account), with `--resources` and `--start-date` applied."""
    kwargs = dict(overrides)
    if start_date:
        parse_start_date(start_date)
        kwargs["start_date"] = start_date
    factory = wootric_source.with_args(name=kwargs["account"]) if "account" in kwargs else wootric_source
    source = factory(**kwargs)
    if resources:
        wanted = [r.strip() for r in resources.split(",") if r.strip()]
        if wanted == ["all"]:
            wanted = list(source.resources)
        unknown = sorted(set(wanted) - set(source.resources))
        if unknown:
            raise ConfigError(f"--resources: unknown {', '.join(unknown)} (available: {', '.join(source.resources)})")
        source = source.with_resources(*wanted)
    return source


def configured_accounts() -> List[str]:
    """`sources.wootric.accounts`: several accounts, each configured in its own section
    (`[sources.wootric.<account>.credentials]`, optionally `region`, `base_url`, ...). Empty: one account."""
    value = dlt.config.get("sources.wootric.accounts")
    if value in (None, "", []):
        return []
    names = [str(a).strip() for a in (value.split(",") if isinstance(value, str) else value) if str(a).strip()]
    if len(set(names)) != len(names):
        raise ConfigError(f"sources.wootric.accounts: an account is named twice in {names}")
    for name in names:
        check_account(name)
        # dlt would fall back to [sources.wootric.credentials]: one account's data under another's name
        if not any(dlt.secrets.get(f"sources.wootric.{name}.credentials.{key}") for key in _CREDENTIAL_KEYS):
            raise ConfigError(
                f"sources.wootric.accounts: no credentials for {name!r}; set"
                f" SOURCES__WOOTRIC__{name.upper()}__CREDENTIALS__CLIENT_ID (+ __CLIENT_SECRET), __USERNAME"
                " (+ __PASSWORD) or __ACCESS_TOKEN, or [sources.wootric.{name}.credentials] in .dlt/secrets.toml"
            )
    return names


#: the first key of each of the three grants (helpers/credentials.py)
_CREDENTIAL_KEYS = ("client_id", "username", "access_token")


def make_sources(resources: Optional[str], start_date: Optional[str], **overrides: Any) -> List[Any]:
    """One source per configured account (each with its own state and tokens), or the single account."""
    accounts = configured_accounts()
    if not accounts:
        return [make_source(resources, start_date, **overrides)]
    return [make_source(resources, start_date, account=name, **overrides) for name in accounts]


def apply_bigquery_layout(source: Any) -> Any:
    """Partitioning and clustering through dlt's BigQuery adapter (other destinations ignore them);
    `account` leads the clustering, as analysts filter by it first."""
    for name, layout in BIGQUERY_LAYOUT.items():
        if name in source.resources:
            bigquery_adapter(source.resources[name], **layout)
    return source


def run_pipeline(
    args: argparse.Namespace, duckdb_file: str = DEFAULT_DUCKDB_FILE, **source_overrides: Any
) -> SyncResult:
    """One sync of every configured account, one after another.

    An account that fails in its extract (refused credentials, API down) does not stop the others;
    the run then ends with one line naming each failed account. A failure after the extract is the
    destination's, which every account would meet: it stops the run. With several accounts, a full
    refresh first drops what every account's schema holds and resets every account's state.
    """
    bound_extract_buffers()
    pipeline = dlt.pipeline(
        pipeline_name=args.pipeline_name,
        destination=destination_for(args.destination, args.dataset_name, duckdb_file),
        dataset_name=args.dataset_name,
        progress=args.progress,
    )
    sources = make_sources(args.resources, args.start_date, **source_overrides)
    multi = len(sources) > 1
    wootric_dataset, woku_dataset = datasets("wootric", args.dataset_name)
    if not (args.full_refresh and not args.resources):  # a full refresh drops the old tables anyway
        add_account_column(pipeline, upgrade_account(sources))
    if args.full_refresh:
        # views depend on the tables a refresh drops (Postgres refuses to drop them otherwise)
        drop_nps_views(pipeline)
        drop_feedback_all(pipeline, woku_dataset)
    refresh = ("drop_resources" if args.resources else "drop_sources") if args.full_refresh else None
    if multi and pipeline.has_pending_data:
        pipeline.load()  # an earlier run's packages: dlt's run() would load them and extract nothing
    if multi and refresh:
        drop_accounts(pipeline, sources, bool(args.resources))
        refresh = None
    result = SyncResult(pipeline)
    failures: List[Tuple[str, str, int]] = []
    for source in sources:
        if args.destination == "bigquery":
            apply_bigquery_layout(source)
        try:
            pipeline.run(source, loader_file_format=LOADER_FILE_FORMAT.get(args.destination), refresh=refresh)
        except Exception as exc:  # noqa: BLE001 - an expected failure of one account is reported at the end
            explained = explain(exc)
            if explained is None or not multi or pipeline.has_pending_data:
                raise
            failures.append((source.name, *explained))
            logger.error("account %r: %s", source.name, explained[0])
            continue
        for table, n in row_counts(pipeline).items():
            result.rows[table] = result.rows.get(table, 0) + n
    result.views = create_nps_views(pipeline, args.dataset_name)
    result.views += [f"{woku_dataset}.{view}" for view in create_feedback_all(pipeline, wootric_dataset, woku_dataset)]
    if failures:
        print_counts(result.rows, f"{args.destination} dataset {args.dataset_name!r} (accounts that succeeded)")
        raise AccountsFailed(failures)
    return result


def drop_accounts(pipeline: Any, sources: List[Any], selected_only: bool) -> None:
    """A full refresh of several accounts that share tables: drop the tables (all, or the selected
    resources') and reset the state of every account's schema, before any account loads again."""
    pipeline.sync_destination()  # schemas and state may live only in the destination
    resources = list(sources[0].selected_resources) if selected_only else []
    # the single-account schema too: its tables may hold what the accounts are to reload
    for name in dict.fromkeys([source.name for source in sources] + [wootric_source.name]):
        if name not in pipeline.schema_names:
            continue  # never loaded: nothing of its own to drop
        pipeline_drop(
            pipeline,
            resources=resources,
            schema_name=name,
            state_paths=() if selected_only else "*",
            drop_all=not selected_only,
        )()


class AccountsFailed(FailureWithStatus):
    """Some accounts failed; the others loaded. The exit status is the first failure's."""

    def __init__(self, failures: List[Tuple[str, str, int]]) -> None:
        super().__init__("; ".join(f"account {name!r}: {message}" for name, message, _ in failures), failures[0][2])


#: tables that had no `account` column before several accounts were supported
ACCOUNT_TABLES = (*STREAMS, "segments", "survey_templates", "email_stats_sources", "nps_summary", "email_stats")


def upgrade_account(sources: List[Any]) -> Optional[str]:
    """Whose rows an old dataset holds: the one configured account (None with several)."""
    if len(sources) > 1:
        return None
    listed = configured_accounts()
    return listed[0] if listed else check_account(dlt.config.get("sources.wootric.account") or "default")


def add_account_column(pipeline: Any, account: Optional[str]) -> None:
    """Upgrade a dataset loaded before the `account` column existed: add it and name the account of
    the rows it holds, so merge on (account, id) finds them instead of loading them again."""
    if pipeline.destination.destination_name not in ("duckdb", "postgres"):
        return
    with pipeline.sql_client() as sql:
        if not sql.has_dataset():
            return
        schema = sql.dataset_name
        found: Dict[str, set] = {}
        for table, column in sql.execute_sql(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = %s", schema
        ):
            found.setdefault(table, set()).add(column)
        legacy = [t for t in ACCOUNT_TABLES if t in found and "account" not in found[t]]
        if not legacy:
            return
        child = "survey_templates__languages"
        if account is None:
            raise ConfigError(
                f"dataset {pipeline.dataset_name!r} was loaded before accounts existed: run it once with the one"
                " account it holds (sources.wootric.account), then add the others, or run --full-refresh"
            )
        ds = sql.fully_qualified_dataset_name()
        for table in legacy:
            sql.execute_sql(f"ALTER TABLE {ds}.{table} ADD COLUMN account VARCHAR")
            sql.execute_sql(f"UPDATE {ds}.{table} SET account = %s", account)
        if child in found and "_dlt_root_id" not in found[child]:
            # survey_templates was `replace` then: merge needs the root key in its child table
            sql.execute_sql(f"ALTER TABLE {ds}.{child} ADD COLUMN _dlt_root_id VARCHAR")
            sql.execute_sql(f"UPDATE {ds}.{child} SET _dlt_root_id = _dlt_parent_id")
        logger.warning("dataset %s: added the account column (%r) to %s", pipeline.dataset_name, account, legacy)


def report(args: argparse.Namespace) -> int:
    """Write the NPS report from the analyst views of an already loaded dataset."""
    try:
        import matplotlib  # noqa: F401 - the optional [report] extra

        from analytics.report import write_report
    except ImportError:
        raise ConfigError("report needs matplotlib: pip install 'feedback-connectors[report]'") from None
    # `report --demo` reads what `--demo` loaded
    duckdb_file = "feedback_demo.duckdb" if args.demo else DEFAULT_DUCKDB_FILE
    pipeline = dlt.pipeline(
        pipeline_name=args.pipeline_name,
        destination=destination_for(args.destination, args.dataset_name, duckdb_file),
        dataset_name=args.dataset_name,
    )
    with pipeline.sql_client() as sql:
        dataset = sql.fully_qualified_dataset_name()
        try:
            sql.execute_sql(f"SELECT 1 FROM {dataset}.nps_monthly LIMIT 1")
        except DatabaseUndefinedRelation:
            raise ConfigError(
                f"no NPS views in {args.destination} dataset {args.dataset_name!r}: run the pipeline first"
            ) from None
        png, page = write_report(sql, dataset, args.output, f"Wootric NPS — {args.dataset_name}")
    print(f"wrote {png} and {page}")
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)

    def body() -> int:
        if args.command == "report":
            return report(args)
        if args.demo:
            from pipelines.demo import run_demo

            return run_demo(args)
        result = run_pipeline(args)
        print_counts(result.rows, f"{args.destination} dataset {args.dataset_name!r}")
        if result.views:
            print(f"analyst views: {', '.join(result.views)}")
        return 0

    return run_cli(body)


if __name__ == "__main__":
    sys.exit(main())
