"""What `verify` (pipelines/runner/verify.py) needs to know of a vendor's table, declared in each
vendor's `checks.py`."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Iterator, Mapping, Tuple


@dataclass(frozen=True)
class TableCheck:
    """One table `verify` checks: its ids and creation time in the API and the warehouse."""

    table: str
    #: the record's id and creation time as the API names them (`id`/`created_at`, `_id`/`createdAt`)
    api_id: str
    api_created: str
    #: the resource's incremental cursor in the API's records; a creation-time cursor bounds a month
    #: exactly, another (end users' `updated_at`) is read from the month's start to the end
    cursor: str
    id_column: str = "id"
    created_column: str = "created_at"
    #: measure -> SQL aggregate over the table's live rows, compared with the API's month totals
    measures: Mapping[str, str] = field(default_factory=dict)

    @property
    def cursor_is_creation(self) -> bool:
        return self.cursor == self.api_created


def ids_and_created(item: Any, id_field: str, created_field: str) -> Iterator[Tuple[Any, datetime]]:
    """(id, creation time) of every record of a batch a resource yields: an Arrow table or dicts."""
    if hasattr(item, "column_names"):  # pyarrow.Table (Wootric's streams)
        ids = item.column(id_field).to_pylist()
        created = item.column(created_field).to_pylist()
        yield from zip(ids, created, strict=True)
        return
    rows: Iterable[Any] = item if isinstance(item, list) else [item]
    for row in rows:
        yield row[id_field], row[created_field]
