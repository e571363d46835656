"""Edit history as dlt's `scd2` merge: one row per version of a record, with the times it was valid.

Shared by every vendor's opt-in `*_history` resources. Three choices make scd2 safe for
incremental batches (a run sees only new and changed records):

- **The merge key is one text column, `record_key` = `<account>:<id>`.** dlt's scd2 retires active
  versions only within the merge-key partition of the batch, so a record absent from an
  incremental batch keeps its current version. A compound key would be compared as
  `CONCAT(account, id)`, where account `acme1` with id 23 equals account `acme` with id 123.
- **The version hash (`version_hash`) covers the key and the tracked fields only.** A version is a
  change of a tracked field; a record read again unchanged hashes the same and adds nothing. The
  key is hashed too: two records with equal fields must not share a version.
- **Validity columns are `valid_from` and `valid_to`** (NULL while current). `valid_from` is when
  the load that saw the version ran, not the vendor's edit time (its `updated_at` is kept beside).
"""

import hashlib
from typing import Any, Dict

import orjson

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
