"""Edit history as dlt's `scd2` merge (every vendor's opt-in `*_history` resources).

- The merge key is one text column, `<account>:<id>`: scd2 retires versions only within the batch's
  merge-key partitions (a record absent from an incremental batch stays current), and a compound
  key would be compared as `CONCAT(account, id)` (`acme1`+23 equals `acme`+123).
- The version hash covers the key and the tracked fields only: a record read again unchanged adds
  nothing, and two records with equal fields never share a version.
"""

import hashlib
from typing import Any, Callable, Dict

import dlt
import orjson
from dlt.sources import DltResource

from sources.record_kit.accounts import ACCOUNT

RECORD_KEY = "record_key"
VERSION_HASH = "version_hash"
VALID_FROM, VALID_TO = "valid_from", "valid_to"

#: the write disposition of every history resource (dlt's scd2 strategy)
HISTORY_DISPOSITION: Any = {
    "disposition": "merge",
    "strategy": "scd2",
    "validity_column_names": [VALID_FROM, VALID_TO],
    "row_version_column_name": VERSION_HASH,
}


def record_key(account: str, record_id: Any) -> str:
    """`<account>:<id>`: account names are lower-case letters, digits and `_`, so `:` cannot be in one."""
    return f"{account}:{record_id}"


def version_hash(key: str, tracked: Any) -> str:
    """A stable hash of the record's key and tracked values (JSON with sorted keys)."""
    payload = orjson.dumps([key, tracked], option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str)
    return hashlib.sha256(payload).hexdigest()[:32]


def history_hints() -> Dict[str, Dict[str, Any]]:
    """Column hints every history table shares (typed even when the first batch is empty)."""
    return {
        ACCOUNT: {"data_type": "text"},
        RECORD_KEY: {"data_type": "text", "nullable": False},
        VERSION_HASH: {"data_type": "text", "nullable": False},
    }


def history_resource(
    records: DltResource, name: str, columns: Dict[str, Any], selected: bool, versions: Callable[[Any], Any]
) -> DltResource:
    """Every version of each record, made by `versions` from the batches `records` yields (no request
    of its own)."""

    @dlt.transformer(
        data_from=records,
        name=name,
        write_disposition=HISTORY_DISPOSITION,
        merge_key=RECORD_KEY,
        columns=columns,
        selected=selected,
    )
    def history(batch: Any) -> Any:
        yield versions(batch)

    return history
