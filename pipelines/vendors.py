"""The registry: one row per vendor. A new vendor adds its row here, its source package under
`sources/`, its sandbox under `sandbox/` and a two-line entry script; the runner does the rest."""

import argparse
import importlib
from typing import Any, Callable, List

from analytics.feedback_all import create_feedback_all, datasets, drop_feedback_all
from analytics.wootric_nps import create_nps_views, drop_nps_views
from pipelines.runner import Command, Vendor
from pipelines.wootric_report import add_options as add_report_options
from pipelines.wootric_report import report
from sources.woku import woku_source
from sources.wootric import wootric_source
from sources.wootric.settings import BIGQUERY_LAYOUT, STREAMS


def _lazy(module: str, name: str) -> Callable[..., int]:
    """A command's body, imported only when that command runs (demos pull in the sandboxes)."""
    return lambda *args: getattr(importlib.import_module(module), name)(*args)


def _wootric_views(pipeline: Any, dataset: str) -> List[str]:
    wootric_ds, woku_ds = datasets("wootric", dataset)
    made = create_nps_views(pipeline, dataset)
    return made + [f"{woku_ds}.{view}" for view in create_feedback_all(pipeline, wootric_ds, woku_ds)]


def _drop_wootric_views(pipeline: Any, dataset: str) -> None:
    drop_nps_views(pipeline)
    drop_feedback_all(pipeline, datasets("wootric", dataset)[1])


def _woku_views(pipeline: Any, dataset: str) -> List[str]:
    return create_feedback_all(pipeline, *datasets("woku", dataset))


def _drop_woku_views(pipeline: Any, dataset: str) -> None:
    drop_feedback_all(pipeline, datasets("woku", dataset)[1])


def _tracker_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--file", help="CSV with header entity_type,entity_id,name,value")
    parser.add_argument("--from-table", help="SCHEMA.TABLE in the destination with those columns")
    parser.add_argument("--create-missing", action="store_true", help="create absent tracker definitions")
    parser.add_argument("--dry-run", action="store_true", help="validate and show, send nothing")
    parser.set_defaults(demo=False)


def _voicemail_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--manifest", help="CSV with header file,wokuId,qualification,clientEmail,clientPhone,anonymous"
    )
    parser.add_argument("--v1", action="store_true", help="POST /v1/wokus/{wokuId}/voicemails (not the classic route)")
    parser.add_argument("--language", default="es", help="audio language for the --v1 route (default es)")
    parser.add_argument("--dry-run", action="store_true", help="validate and show, send nothing")
    parser.set_defaults(demo=False)


WOOTRIC = Vendor(
    name="wootric",
    title="Wootric end users, responses and declines",
    source=wootric_source,
    credential_keys=("client_id", "username", "access_token"),
    create_views=_wootric_views,
    drop_views=_drop_wootric_views,
    demo=_lazy("pipelines.wootric_demo", "run_demo"),
    default_excluded=("nps_summary", "email_stats"),
    bigquery_layout=BIGQUERY_LAYOUT,
    account_tables=(*STREAMS, "segments", "survey_templates", "email_stats_sources", "nps_summary", "email_stats"),
    commands={
        "report": Command("write nps_report.png and nps_report.html from the warehouse", add_report_options, report),
    },
)

WOKU = Vendor(
    name="woku",
    title="Woku responses, wokus, reviews, forms, flows and trackers",
    source=woku_source,
    credential_keys=("api_key",),
    create_views=_woku_views,
    drop_views=_drop_woku_views,
    demo=_lazy("pipelines.woku_demo", "run_demo"),
    commands={
        "trackers": Command(
            "write external tracker values (CRM ids, order numbers) onto Woku's records",
            _tracker_options,
            _lazy("pipelines.writeback.trackers", "run_trackers"),
        ),
        "voicemails": Command(
            "import audio reviews from a manifest, each exactly once",
            _voicemail_options,
            _lazy("pipelines.writeback.voicemail_command", "run_voicemails"),
        ),
    },
)

VENDORS = {vendor.name: vendor for vendor in (WOOTRIC, WOKU)}
