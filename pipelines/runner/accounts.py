"""Which accounts a run syncs, each a unit of work: its own dlt pipeline (`<pipeline-name>-<account>`),
state and schema, loading into the shared dataset (rows told apart by `account`), so any two accounts
can run at once, in threads or Airflow tasks. A run without an account list uses `<pipeline-name>`."""

import re
import typing
from dataclasses import dataclass
from typing import Any, List, Optional, Tuple

import dlt
from dlt.common.configuration.specs import BaseConfiguration

from analytics.soft_delete import DELETED_AT
from pipelines.runner.vendor import Vendor
from sources.http_kit import ConfigError
from sources.http_kit.config import check_account, parse_start_date


def account_names(vendor: Vendor) -> List[str]:
    """The names in `sources.<vendor>.accounts`, checked (no credentials needed: `status`); empty: one account."""
    key = f"{vendor.section}.accounts"
    value = dlt.config.get(key)
    if value in (None, "", []):
        return []
    if isinstance(value, str):
        # `acme,globex`, or the TOML form `["acme", "globex"]` put in an environment variable
        value = value.strip().removeprefix("[").removesuffix("]").split(",") if value.strip() else []
        value = [a.strip().strip("'\"") for a in value]
    names = [str(a).strip() for a in value if str(a).strip()]
    if len(set(names)) != len(names):
        raise ConfigError(f"{key}: an account is named twice in {names}")
    return [check_account(name, key) for name in names]


def configured_accounts(vendor: Vendor) -> List[str]:
    """The listed accounts, each with credentials in its own section `[sources.<vendor>.<account>.credentials]`."""
    key = f"{vendor.section}.accounts"
    names = account_names(vendor)
    for name in names:
        # dlt would fall back to [sources.<vendor>.credentials]: one account's data under another's name
        if not any(dlt.secrets.get(f"{vendor.section}.{name}.credentials.{k}") for k in vendor.credential_keys):
            env = f"SOURCES__{vendor.name.upper()}__{name.upper()}__CREDENTIALS__"
            keys = " or ".join(env + k.upper() for k in vendor.credential_keys)
            raise ConfigError(
                f"{key}: no credentials for {name!r}; set {keys} (with the rest of that credential),"
                f" or [{vendor.section}.{name}.credentials] in .dlt/secrets.toml"
            )
    return names


def make_source(vendor: Vendor, resources: Optional[str], start_date: Optional[str], **overrides: Any) -> Any:
    """One account's source; a named account is its own dlt source (own schema and state)."""
    kwargs = dict(overrides)
    if start_date:
        parse_start_date(start_date, "--start-date")
        kwargs["start_date"] = start_date
    factory = vendor.source.with_args(name=kwargs["account"]) if "account" in kwargs else vendor.source
    source = factory(**kwargs)
    for check in vendor.checked_tables.values():
        # `verify --repair` marks rows the API no longer holds: a column of dlt's schema, kept by --full-refresh
        source.resources[check.table].apply_hints(columns={DELETED_AT: {"data_type": "timestamp", "nullable": True}})
    if resources:
        wanted = [r.strip() for r in resources.split(",") if r.strip()]
        if wanted == ["all"]:
            wanted = list(source.resources)
        unknown = sorted(set(wanted) - set(source.resources))
        if unknown:
            raise ConfigError(f"--resources: unknown {', '.join(unknown)} (available: {', '.join(source.resources)})")
        # a history resource reads its parent's records: load the parent too, or its cursor would
        # advance past rows that never land
        wanted += [vendor.history[name] for name in wanted if name in vendor.history]
        wanted = list(dict.fromkeys(wanted))
        source = source.with_resources(*wanted)
    return source


def single_account(vendor: Vendor) -> str:
    """The name of the one account a single-account run loads (`sources.<vendor>.account`)."""
    listed = configured_accounts(vendor)
    if listed:
        return listed[0]
    return check_account(dlt.config.get(f"{vendor.section}.account") or "default", f"{vendor.section}.account")


#: what `.dlt/secrets.toml.example` and documentation put where a real value goes: `your-client-id`,
#: `...`, `<api key>`, `NPS-xxxxxxxx`, `you@example.com`
PLACEHOLDER = re.compile(r"^(your[-_ ].*|\.\.\.|<.*>|.*x{6,}.*|you@example\.com)$", re.IGNORECASE)


def refuse_placeholders(vendor: Vendor, section: str) -> None:
    """The example secrets copied unchanged would send `your-client-secret` to the API and retry its
    refusal for seconds; refuse it before any request, naming the key (never the value)."""
    for field in credential_fields(vendor):
        key = f"{section}.credentials.{field}"
        value = dlt.secrets.get(key)
        if isinstance(value, str) and PLACEHOLDER.match(value.strip()):
            raise ConfigError(
                f"{key} still holds the placeholder of .dlt/secrets.toml.example; put the real value there"
                f" (or set {key.upper().replace('.', '__')})"
            )


def credential_fields(vendor: Vendor) -> Tuple[str, ...]:
    """Every field of the source's credentials (each member of a union of grants), in order."""
    hint = vendor.source.ref.SPEC.get_resolvable_fields().get("credentials")
    members = typing.get_args(hint) or (hint,)
    specs = [m for m in members if isinstance(m, type) and issubclass(m, BaseConfiguration)]
    return tuple(dict.fromkeys(field for spec in specs for field in spec.get_resolvable_fields()))


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
    # `wootric-acme`: a `-` never occurs in an account name, so no two (pipeline, account) pairs meet
    return [
        Unit(f"{pipeline_name}-{name}", make_source(vendor, resources, start_date, account=name, **overrides), name)
        for name in accounts
    ]
