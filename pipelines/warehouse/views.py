"""The analyst views each vendor's sync (re)creates after loading, and drops before a full refresh."""

from typing import Any, List

from analytics.feedback_all import create_feedback_all, datasets, drop_feedback_all
from analytics.woku_monthly import create_woku_monthly_views, drop_woku_monthly_views
from analytics.wootric_nps import create_nps_views, drop_nps_views


def wootric_views(pipeline: Any, dataset: str) -> List[str]:
    """The NPS views in the Wootric dataset, then `feedback_all` beside the Woku tables (if loaded)."""
    wootric_ds, woku_ds = datasets("wootric", dataset)
    made = create_nps_views(pipeline, dataset)
    return made + [f"{woku_ds}.{view}" for view in create_feedback_all(pipeline, wootric_ds, woku_ds)]


def drop_wootric_views(pipeline: Any, dataset: str) -> None:
    """Before a full refresh: views depend on the tables it drops (Postgres refuses otherwise)."""
    drop_nps_views(pipeline)
    drop_feedback_all(pipeline, datasets("wootric", dataset)[1])


def woku_views(pipeline: Any, dataset: str) -> List[str]:
    """The monthly NPS/CSAT/CES views in the Woku dataset, then `feedback_all` beside them."""
    return create_woku_monthly_views(pipeline) + create_feedback_all(pipeline, *datasets("woku", dataset))


def drop_woku_views(pipeline: Any, dataset: str) -> None:
    drop_woku_monthly_views(pipeline)
    drop_feedback_all(pipeline, datasets("woku", dataset)[1])
