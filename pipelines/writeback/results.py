"""Load write-back outcomes into the destination, under a pipeline of their own.

Each command loads with the pipeline `<pipeline-name>_<command>` and its own dlt schema into the user's
dataset (its local folder is one per destination and dataset: `results_dir`): a `--full-refresh` sync
of the source pipeline then cannot drop this audit trail, and a load of
outcomes never mixes with a sync's packages.
"""

import argparse
import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Dict, List, Mapping, Sequence, Tuple, Union, get_args, get_type_hints

import dlt
from dlt.common.pipeline import get_dlt_pipelines_dir

from pipelines.runner.sync import make_pipeline
from pipelines.warehouse.destinations import LOADER_FILE_FORMAT


def column(data_type: str, nullable: bool = True, **hints: Any) -> Dict[str, Any]:
    """A fresh hint per column (dlt writes the column's name into the dict it is given).

    Explicit types keep a column that is NULL in every row of a load (http_status of a batch that got
    no answer) in the table, with its type.
    """
    return {"data_type": data_type, "nullable": nullable, **hints}


def columns_of(record: type) -> Dict[str, Dict[str, Any]]:
    """The column hints of a dataclass whose instances are the rows: `Optional[...]` fields are nullable."""
    hints: Dict[str, Dict[str, Any]] = {}
    for name, hint in get_type_hints(record).items():
        args = [a for a in get_args(hint) if a is not type(None)]
        nullable = len(args) < len(get_args(hint))
        kind = args[0] if nullable else hint
        data_type, extra = _SQL_TYPES[kind]
        hints[name] = column(data_type, nullable, **extra)
    return hints


_SQL_TYPES: Dict[Any, Tuple[str, Dict[str, Any]]] = {
    str: ("text", {}),
    int: ("bigint", {}),
    bool: ("bool", {}),
    datetime: ("timestamp", {"timezone": True}),
}


@dataclass(frozen=True)
class Table:
    """Rows for one table of a load, and how they land."""

    name: str
    rows: Sequence[Mapping[str, Any]]
    columns: Mapping[str, Mapping[str, Any]]
    write_disposition: str = "append"
    primary_key: Union[None, str, Tuple[str, ...]] = None


def results_dir(pipelines_dir: str, name: str, destination: str, dataset: str) -> str:
    """`<pipelines dir>/<name>.<destination>.<dataset>`: the local folder of one results pipeline for one
    destination and dataset (its dlt working folder and its journal). What a run keeps for the next (a
    pending package, a journal) is loaded only by a run into the same dataset: dlt loads a pipeline's
    pending packages into whatever dataset the pipeline now names."""
    return os.path.join(pipelines_dir, f"{name}.{destination}.{dataset}")


def results_pipeline(args: argparse.Namespace, command: str) -> Any:
    """The user's destination and dataset, under the pipeline `<pipeline-name>_<command>` (in `results_dir`)."""
    name = f"{args.pipeline_name}_{command}"
    where = results_dir(get_dlt_pipelines_dir(), name, args.destination, args.dataset_name)
    return make_pipeline(argparse.Namespace(**{**vars(args), "pipeline_name": name}), pipelines_dir=where)


def load_tables(pipeline: Any, tables: Sequence[Table], schema: str, destination: str) -> None:
    """One load of every table that has rows (an empty table is not loaded).

    Pending packages are loaded first: dlt's `run` would load them instead of these rows, and say nothing.
    """
    if pipeline.has_pending_data:
        pipeline.load()
    resources: List[Any] = []
    for table in tables:
        if not table.rows:
            continue
        hints: Dict[str, Any] = {"primary_key": table.primary_key} if table.primary_key else {}
        resources.append(
            dlt.resource(
                list(table.rows),
                name=table.name,
                write_disposition=table.write_disposition,
                columns={k: dict(v) for k, v in table.columns.items()},
                **hints,
            )
        )
    if resources:
        pipeline.run(resources, schema=dlt.Schema(schema), loader_file_format=LOADER_FILE_FORMAT.get(destination))
