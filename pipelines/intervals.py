"""What the DAG decides from Airflow's values: which records a run loads (from the incremental state, or
exactly its data interval), and which executor runs its tasks.

Kept apart from the DAG file so the rules are testable without Airflow installed.
"""

from typing import Any, Dict, Optional

from sources.http_kit import ConfigError


def loads_its_interval(run_type: Optional[str], conf: Optional[Dict[str, Any]]) -> bool:
    """Only a backfill is bounded by its data interval; every other run continues from the state.

    A bounded run reads [data_interval_start, data_interval_end) and leaves the state alone (dlt's
    `allow_external_schedulers` semantics). Scheduled runs are not bounded: the look-back for late
    edits needs the state, and a run after a pause (catchup off) must not leave a gap.
    """
    kind = str(getattr(run_type, "value", run_type) or "").lower()
    return kind == "backfill" or kind.endswith(".backfill") or bool((conf or {}).get("backfill"))


def check_interval(bounded: bool, start: Any, end: Any) -> None:
    """A bounded run over an empty interval (a trigger with no logical date) would load nothing and
    still succeed: stop it with the reason instead."""
    if bounded and (start is None or end is None or start >= end):
        raise ConfigError("a backfill needs a data interval: trigger it with a logical date")


def executor_name(setting: str) -> str:
    """The class name of the executor `[core] executor` runs tasks under: the first of a list
    (`CeleryExecutor,KubernetesExecutor`), without its alias (`name:module.Class`) or module path."""
    first = setting.split(",")[0]
    return first.split(":")[-1].split(".")[-1].strip()
