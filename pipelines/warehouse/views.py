"""The analyst views each vendor's sync (re)creates after loading, and drops before a full refresh."""

from typing import Any, List, Optional

from analytics.error_bars import FLOAT
from analytics.feedback_all import create_feedback_all, datasets, drop_feedback_all
from analytics.woku_monthly import create_woku_monthly_views, drop_woku_monthly_views
from analytics.wootric_nps import create_nps_views, drop_nps_views
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


def wootric_views(pipeline: Any, dataset: str) -> List[str]:
    """The NPS views in the Wootric dataset, then `feedback_all` beside the Woku tables (if loaded)."""
    pipeline = lake_catalog(pipeline) or pipeline
    wootric_ds, woku_ds = datasets("wootric", dataset)
    made = create_nps_views(pipeline, dataset)
    return made + [f"{woku_ds}.{view}" for view in create_feedback_all(pipeline, wootric_ds, woku_ds)]


def drop_wootric_views(pipeline: Any, dataset: str) -> None:
    """Before a full refresh: views depend on the tables it drops (Postgres refuses otherwise)."""
    drop_nps_views(pipeline)
    drop_feedback_all(pipeline, datasets("wootric", dataset)[1])


def woku_views(pipeline: Any, dataset: str) -> List[str]:
    """The monthly NPS/CSAT/CES views in the Woku dataset, then `feedback_all` beside them."""
    pipeline = lake_catalog(pipeline) or pipeline
    return create_woku_monthly_views(pipeline) + create_feedback_all(pipeline, *datasets("woku", dataset))


def drop_woku_views(pipeline: Any, dataset: str) -> None:
    drop_woku_monthly_views(pipeline)
    drop_feedback_all(pipeline, datasets("woku", dataset)[1])
