"""What landed in the warehouse (DuckDB or PostgreSQL), and how it compares with the sandbox's truth."""

import os
from pathlib import Path
from typing import Dict, List

import duckdb

from benchmarks.report import Result
from benchmarks.workloads import STREAMS

PG_DSN = os.environ.get("BENCH_POSTGRES_DSN", "postgresql://postgres:postgres@127.0.0.1:5432/test")


def landed_ids(db: Path, dataset: str, tables: Dict[str, str], key: str = "id") -> Dict[str, List]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {
            s: [r[0] for r in con.execute(f'SELECT {key} FROM {dataset}."{t}"').fetchall()] for s, t in tables.items()
        }


def landed_ids_postgres(dataset: str) -> Dict[str, List]:
    import psycopg2

    with psycopg2.connect(PG_DSN) as con, con.cursor() as cur:
        out = {}
        for s in STREAMS:
            cur.execute(f'SELECT id FROM "{dataset}"."{s}"')
            out[s] = [r[0] for r in cur.fetchall()]
        return out


def drop_postgres(dataset: str) -> None:
    import psycopg2

    con = psycopg2.connect(PG_DSN)
    con.autocommit = True
    with con.cursor() as cur:
        for schema in (dataset, f"{dataset}_staging"):
            cur.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    con.close()


def compare(result: Result, truth: Dict[str, set], landed: Dict[str, List]) -> None:
    for s in truth:
        ids = landed.get(s, [])
        distinct = set(ids)
        stream = {
            "held": len(truth[s]),
            "landed": len(distinct),
            "missing": len(truth[s] - distinct),
            "duplicated": len(ids) - len(distinct),
        }
        result.per_stream[s] = stream
        result.held += stream["held"]
        result.landed += stream["landed"]
        result.missing += stream["missing"]
        result.duplicated += stream["duplicated"]
