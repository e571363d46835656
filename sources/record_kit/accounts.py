"""The `account` column: first in every table and every primary key, so several accounts of one
vendor share a dataset."""

from typing import Any, Dict

ACCOUNT = "account"

#: a whole list per account: the account's rows are deleted and inserted again, other accounts' stay
REPLACE_ACCOUNT: Any = {"disposition": "merge", "strategy": "delete-insert"}


def account_hints() -> Dict[str, Dict[str, Any]]:
    """Column hints that type `account` as text even in a table whose first page is empty."""
    return {ACCOUNT: {"data_type": "text"}}
