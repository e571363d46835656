"""An account as a unit of work: its own dlt pipeline, state and schema, loading into the shared dataset.

Each configured account (`sources.<vendor>.accounts`) syncs under the pipeline `<pipeline-name>-<account>`:
its incremental state, schema and load packages are its own, so any two accounts can run at the same
time, in threads of one process (`parallel.py`) or as Airflow tasks on different workers, without
touching each other's state. Every account still lands in the one dataset, told apart by the `account`
column. A run without an account list keeps the plain `<pipeline-name>` pipeline, as before.

Before this, several accounts shared one pipeline (`<pipeline-name>`), each account a dlt source of it.
`adopt_state` carries such an account's source state over to its own pipeline the first time it runs
on its own, so an upgrade neither reloads history nor loses the look-back.
"""

import copy
import logging
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from pipelines.runner.accounts import configured_accounts, make_source, refuse_placeholders
from pipelines.runner.vendor import Vendor
from sources.http_kit import ConfigError

logger = logging.getLogger(__name__)


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


def adopt_state(pipeline: Any, source_name: str, found: Optional[Dict[str, Any]], shared_pipeline: str) -> bool:
    """Give `pipeline` the state `found` that its account's source had in the pipeline the accounts
    once shared, if it has none of its own yet. Returns whether state was carried over."""
    if not found or source_name in pipeline.state.get("sources", {}):
        return False
    with pipeline.managed_state() as state:
        state.setdefault("sources", {})[source_name] = copy.deepcopy(found)
    logger.warning(
        "%s: incremental state carried over from the pipeline %r that accounts shared before each ran as a"
        " pipeline of its own",
        pipeline.pipeline_name,
        shared_pipeline,
    )
    return True
