"""A vendor's registration: everything the shared runner needs to sync it, in one small record."""

import argparse
import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Tuple

from sources.record_kit.checks import TableCheck

#: (pipeline, dataset name) -> names of the views made
CreateViews = Callable[[Any, str], List[str]]
#: (pipeline, dataset name) -> None
DropViews = Callable[[Any, str], None]


@dataclass(frozen=True)
class Command:
    """An extra subcommand (report, write-back): its options and what it runs."""

    help: str
    add_options: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    #: takes --destination, --dataset-name and --pipeline-name
    warehouse_options: bool = True


@dataclass(frozen=True)
class CommentTable:
    """Where a vendor keeps comments (`themes`): the table, its id, its text columns (the first not NULL
    wins), and whether its `score` is a 0-10 NPS answer."""

    table: str
    id_column: str
    text_columns: Tuple[str, ...]
    nps: bool


@dataclass(frozen=True)
class Vendor:
    """One row of the registry (`pipelines/vendors.py`).

    `source` is the vendor's `@dlt.source`; it must take an `account` argument and tag every row with
    it, so several accounts share one dataset. `credential_keys` holds the first key of each
    credential kind: a listed account without any of them is refused (dlt would fall back to the
    vendor's shared section and load one account's data under another's name).
    """

    name: str
    title: str
    source: Any
    credential_keys: Tuple[str, ...]
    create_views: CreateViews
    drop_views: DropViews
    #: `--demo`: (this vendor, the run options) -> exit status
    demo: Callable[["Vendor", argparse.Namespace], int]
    #: every resource of the source, in its order: what the Airflow DAG makes a task of, known without
    #: credentials when the DAG is parsed (tests/pipelines/test_vendors.py checks it against the source)
    resources: Tuple[str, ...] = ()
    default_excluded: Tuple[str, ...] = ()
    bigquery_layout: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    commands: Dict[str, Command] = field(default_factory=dict)
    #: opt-in history resources (dlt transformers) -> the resource each reads its records from. Named
    #: in `--resources`, a history resource brings its parent: the parent's cursor must not move on
    #: without the parent's rows being loaded
    history: Mapping[str, str] = field(default_factory=dict)
    #: `status`: the column holding each table's newest record time (the vendor's cursor)
    freshness_columns: Mapping[str, str] = field(default_factory=dict)
    #: `verify`: the vendor's source of API totals per month (`ranges`, `account` and the sync's settings)
    totals: Any = None
    #: `verify`: the tables it checks, how their records are named, what they are compared with
    checked_tables: Mapping[str, TableCheck] = field(default_factory=dict)
    #: filters for dlt's logger: warnings that are the vendor's design, not a problem
    log_filters: Tuple[logging.Filter, ...] = ()
    #: `themes`: the tables holding the vendor's comments
    comments: Tuple[CommentTable, ...] = ()

    @property
    def section(self) -> str:
        return f"sources.{self.name}"

    @property
    def prog(self) -> str:
        return f"{self.name}-pipeline"
