"""The analyst views each vendor's sync (re)creates after loading, and drops before a full refresh."""

from typing import Any, Callable, Dict, List, Mapping, Optional, Set

from analytics import woku_monthly, wootric_nps
from analytics.error_bars import FLOAT
from analytics.feedback_all import create_feedback_all, datasets, drop_feedback_all
from pipelines.warehouse.lake import LAKE_CATALOG, lake_catalog, local_dataset_folder

#: the destinations the analyst views are written for; a local filesystem lake gets them in its catalog
VIEW_DIALECTS = tuple(FLOAT)


def views_not_built(pipeline: Any) -> Optional[str]:
    """The one line a run prints when its destination gets no analyst views."""
    name = pipeline.destination.destination_name
    if name in VIEW_DIALECTS or local_dataset_folder(pipeline) is not None:
        return None
    return (
        f"analyst views: not built for destination {name!r} (they are for {', '.join(VIEW_DIALECTS)}"
        f" and a local filesystem lake); the tables are loaded"
    )


def where_views_are(pipeline: Any) -> str:
    """Where a run's analyst views are: the lake's DuckDB catalog, else the dataset itself."""
    return f" (DuckDB catalog {LAKE_CATALOG})" if local_dataset_folder(pipeline) is not None else ""


def drop_views(pipeline: Any, names: Mapping[str, Set[str]]) -> None:
    """Drop the named views where the dataset exists (Postgres refuses to drop a table a view reads)."""
    if pipeline.destination.destination_name not in VIEW_DIALECTS:
        return
    with pipeline.sql_client() as sql:
        if sql.has_dataset():
            ds = sql.fully_qualified_dataset_name()
            for name in names:
                sql.execute_sql(f"DROP VIEW IF EXISTS {ds}.{name}")


def create_views(
    pipeline: Any, view_sql: Callable[[str, str], Dict[str, str]], needs: Mapping[str, Set[str]]
) -> List[str]:
    """Create or replace each view whose tables (`needs`) are in the pipeline's schema; the names created."""
    dialect = pipeline.destination.destination_name
    if dialect not in VIEW_DIALECTS:
        return []
    tables = set(pipeline.default_schema.tables) if pipeline.default_schema_name else set()
    created = []
    with pipeline.sql_client() as sql:
        ds = sql.fully_qualified_dataset_name()
        for name, statement in view_sql(dialect, ds).items():
            if needs[name] <= tables:
                # Postgres cannot replace a view whose columns changed
                sql.execute_sql(f"DROP VIEW IF EXISTS {ds}.{name}")
                sql.execute_sql(statement)
                created.append(name)
    return created


def wootric_views(pipeline: Any, dataset: str) -> List[str]:
    """The NPS views in the Wootric dataset, then `feedback_all` beside the Woku tables (if loaded)."""
    pipeline = lake_catalog(pipeline) or pipeline
    wootric_ds, woku_ds = datasets("wootric", dataset)
    made = create_views(pipeline, wootric_nps.view_sql, wootric_nps.NEEDS)
    return made + [f"{woku_ds}.{view}" for view in create_feedback_all(pipeline, wootric_ds, woku_ds)]


def drop_wootric_views(pipeline: Any, dataset: str) -> None:
    drop_views(pipeline, wootric_nps.NEEDS)
    drop_feedback_all(pipeline, datasets("wootric", dataset)[1])


def woku_views(pipeline: Any, dataset: str) -> List[str]:
    """The monthly NPS/CSAT/CES views in the Woku dataset, then `feedback_all` beside them."""
    pipeline = lake_catalog(pipeline) or pipeline
    made = create_views(pipeline, woku_monthly.view_sql, woku_monthly.NEEDS)
    return made + create_feedback_all(pipeline, *datasets("woku", dataset))


def drop_woku_views(pipeline: Any, dataset: str) -> None:
    drop_views(pipeline, woku_monthly.NEEDS)
    drop_feedback_all(pipeline, datasets("woku", dataset)[1])
