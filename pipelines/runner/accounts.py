"""Which accounts a run syncs, and the dlt source of each, with `--resources` and `--start-date` applied."""

from typing import Any, List, Optional

import dlt

from pipelines.runner.vendor import Vendor
from sources.http_kit import ConfigError
from sources.http_kit.config import check_account, parse_start_date


def configured_accounts(vendor: Vendor) -> List[str]:
    """`sources.<vendor>.accounts`: several accounts, each configured in its own section
    (`[sources.<vendor>.<account>.credentials]` and its other settings). Empty: one account."""
    key = f"{vendor.section}.accounts"
    value = dlt.config.get(key)
    if value in (None, "", []):
        return []
    names = [str(a).strip() for a in (value.split(",") if isinstance(value, str) else value) if str(a).strip()]
    if len(set(names)) != len(names):
        raise ConfigError(f"{key}: an account is named twice in {names}")
    for name in names:
        check_account(name, key)
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
    if resources:
        wanted = [r.strip() for r in resources.split(",") if r.strip()]
        if wanted == ["all"]:
            wanted = list(source.resources)
        unknown = sorted(set(wanted) - set(source.resources))
        if unknown:
            raise ConfigError(f"--resources: unknown {', '.join(unknown)} (available: {', '.join(source.resources)})")
        source = source.with_resources(*wanted)
    return source


def make_sources(vendor: Vendor, resources: Optional[str], start_date: Optional[str], **overrides: Any) -> List[Any]:
    """One source per configured account, or the single account."""
    accounts = configured_accounts(vendor)
    if not accounts:
        return [make_source(vendor, resources, start_date, **overrides)]
    return [make_source(vendor, resources, start_date, account=name, **overrides) for name in accounts]


def single_account(vendor: Vendor) -> str:
    """The name of the one account a single-account run loads (`sources.<vendor>.account`)."""
    listed = configured_accounts(vendor)
    if listed:
        return listed[0]
    return check_account(dlt.config.get(f"{vendor.section}.account") or "default", f"{vendor.section}.account")
