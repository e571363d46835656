"""An account as a unit of work: its own dlt pipeline, state and schema, loading into the shared dataset.

Each configured account (`sources.<vendor>.accounts`) syncs under the pipeline `<pipeline-name>-<account>`:
its incremental state, schema and load packages are its own, so any two accounts can run at the same
time, in threads of one process (`parallel.py`) or as Airflow tasks on different workers, without
touching each other's state. Every account still lands in the one dataset, told apart by the `account`
column. A run without an account list uses the plain `<pipeline-name>` pipeline.
"""

from dataclasses import dataclass
from typing import Any, List, Optional

from pipelines.runner.accounts import configured_accounts, make_source, refuse_placeholders
from pipelines.runner.vendor import Vendor
from sources.http_kit import ConfigError


@dataclass
class Unit:
    """One account's share of a run: the pipeline it loads under and its dlt source."""

    pipeline_name: str
    source: Any
    #: the configured account's name; None for a run without an account list
    account: Optional[str] = None

    @property
    def label(self) -> str:
        return f"account {self.account!r}" if self.account else f"pipeline {self.pipeline_name!r}"


def unit_pipeline_name(pipeline_name: str, account: Optional[str]) -> str:
    """`wootric-acme`: a `-` never occurs in an account name, so no two (pipeline, account) pairs meet."""
    return f"{pipeline_name}-{account}" if account else pipeline_name


def plan_units(
    vendor: Vendor,
    pipeline_name: str,
    resources: Optional[str],
    start_date: Optional[str],
    only: Optional[List[str]] = None,
    **overrides: Any,
) -> List[Unit]:
    """One unit per configured account (or the `only` ones), or the single account; settings checked
    (placeholders, resources, start date) before any unit runs."""
    accounts = configured_accounts(vendor)
    if only is not None:
        unknown = sorted(set(only) - set(accounts))
        if unknown:
            raise ConfigError(f"{vendor.section}.accounts has no account {', '.join(map(repr, unknown))}")
        accounts = [a for a in accounts if a in only]
    if "credentials" not in overrides:  # the demo brings its own
        for section in [f"{vendor.section}.{name}" for name in accounts] or [vendor.section]:
            refuse_placeholders(vendor, section)
    if not accounts:
        return [Unit(pipeline_name, make_source(vendor, resources, start_date, **overrides))]
    return [
        Unit(
            unit_pipeline_name(pipeline_name, name),
            make_source(vendor, resources, start_date, account=name, **overrides),
            name,
        )
        for name in accounts
    ]
