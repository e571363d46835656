"""dlt's BigQuery destination as this project loads it: an emulator mode (BIGQUERY_EMULATOR_HOST,
no Google credentials), a staging dataset per account, and a bounded retry of concurrent updates."""

import json
import logging
import os
import random
import time
from typing import Any, Callable, List, Optional, TypeVar

import dlt
import pyarrow as pa

from sources.http_kit import ConfigError
from sources.http_kit.errors import causes

logger = logging.getLogger(__name__)
T = TypeVar("T")

EMULATOR_ENV = "BIGQUERY_EMULATOR_HOST"
PROJECT_ENV = "DESTINATION__BIGQUERY__CREDENTIALS__PROJECT_ID"
_UNCOMPRESSED_ENV = "NORMALIZE__DATA_WRITER__DISABLE_COMPRESSION"
#: BigQuery's answers when another load changed the same table at that moment (two merges: dlt
#: retries the job five times at once, then gives up), or created the same dataset or table first
CONCURRENT_UPDATE = ("concurrent update", "Could not serialize access", "Already Exists")
#: loads again after a concurrent update: waits of about 2, 4, 8, 16 and 32 s (jittered), then the error stands
LOAD_ATTEMPTS = 6
FIRST_WAIT_SECONDS = 2.0


def bigquery_destination(account: Optional[str] = None) -> Any:
    """BigQuery, or the emulator at BIGQUERY_EMULATOR_HOST; with `account`, its own staging dataset
    (dlt truncates `<dataset>_staging` at each load: accounts loading at once would empty each other's)."""
    kwargs = {"staging_dataset_name_layout": f"%s_staging_{account}"} if account else {}
    host = os.environ.get(EMULATOR_ENV)
    if not host:
        return dlt.destinations.bigquery(**kwargs)
    from google.oauth2.credentials import Credentials

    project = dlt.secrets.get("destination.bigquery.credentials.project_id") or dlt.config.get(
        "destination.bigquery.project_id"
    )
    if not project:
        raise ConfigError(f"{EMULATOR_ENV} is set ({host}): set {PROJECT_ENV} to the emulator's project id")
    # the emulator reads no gzip; for this process only (a command loads into one destination)
    os.environ.setdefault(_UNCOMPRESSED_ENV, "true")
    # dlt refuses anonymous credentials; an OAuth token it never checks passes, and goes only to `host`
    token = Credentials(token="bigquery-emulator", quota_project_id=str(project))
    return dlt.destinations.bigquery(credentials=token, project_id=str(project), **kwargs)


def json_as_values(source: Any) -> Any:
    """Resources that yield Arrow tables with JSON columns as text yield rows with those columns parsed:
    dlt's BigQuery loader takes JSON columns from jsonl only, where a text would land as a JSON string."""
    for resource in source.selected_resources.values():
        hints = resource.columns if isinstance(resource.columns, dict) else {}
        names = [name for name, hint in hints.items() if hint.get("data_type") == "json"]
        if names:
            resource.add_map(_parser(names))
    return source


def _parser(names: List[str]) -> Callable[[Any], Any]:
    def parsed(item: Any) -> Any:
        if not isinstance(item, pa.Table):
            return item
        rows = item.to_pylist()
        for row in rows:
            for name in names:
                if row.get(name) is not None:
                    row[name] = json.loads(row[name])
        return rows

    return parsed


def concurrent_update(exc: BaseException) -> bool:
    """Whether BigQuery refused a load because another one changed (or created) the same table at that moment."""
    return any(any(text in str(err) for text in CONCURRENT_UPDATE) for err in causes(exc))


def retrying_concurrent_updates(
    load: Callable[[], T],
    label: str,
    *,
    attempts: int = LOAD_ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """`load()`, and again (bounded, logged) while BigQuery reports a concurrent update of a table: an
    aborted merge changed nothing, and `pipeline.load()` resumes the same package, so it is safe."""
    for attempt in range(1, attempts):
        try:
            return load()
        except Exception as exc:
            if not concurrent_update(exc):
                raise
            wait = FIRST_WAIT_SECONDS * 2 ** (attempt - 1) * random.uniform(0.75, 1.25)
            logger.warning(
                "%s: another load changed the same BigQuery table at that moment; loading again in %.1fs"
                " (attempt %d of %d)",
                label,
                wait,
                attempt + 1,
                attempts,
            )
            sleep(wait)
    return load()  # the last attempt: its error stands
