"""The registry: one row per vendor. A new vendor adds its row here, its source package under
`sources/`, its sandbox under `sandbox/`, a demo and an entry script of a few lines; the runner does
the rest (docs/adding-a-vendor.md)."""

import argparse
import importlib
from typing import Callable

from pipelines.runner import Command, Vendor
from pipelines.runner.vendor import CommentTable
from pipelines.warehouse.report import add_options as add_report_options
from pipelines.warehouse.report import report
from pipelines.warehouse.views import drop_woku_views, drop_wootric_views, woku_views, wootric_views
from sources.woku import woku_source
from sources.woku.checks import TABLES as WOKU_CHECKED
from sources.woku.checks import woku_totals
from sources.woku.helpers.records import history_name
from sources.woku.settings import SURVEYS
from sources.wootric import wootric_source
from sources.wootric.checks import TABLES as WOOTRIC_CHECKED
from sources.wootric.checks import wootric_totals
from sources.wootric.helpers.tables import IntendedJsonHints
from sources.wootric.settings import BIGQUERY_LAYOUT, STREAMS

THEMES_HELP = "group comments into themes per account: comment_themes, response_themes (the [themes] extra)"


def _lazy(module: str, name: str) -> Callable[..., int]:
    """A command's body, imported only when that command runs (demos pull in the sandboxes)."""
    return lambda *args: getattr(importlib.import_module(module), name)(*args)


def _themes(vendor: str) -> Callable[[argparse.Namespace], int]:
    """`themes` for this vendor (pipelines/warehouse/themes.py; numpy and the model load only then)."""
    return lambda args: _lazy("pipelines.warehouse.themes", "run_themes")(VENDORS[vendor], args)


def _themes_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rebuild", action="store_true", help="fit the themes anew (default: keep them, assign new comments)"
    )


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
    parser.add_argument("--allow-outside-files", action="store_true", help="accept files outside the manifest's folder")
    parser.add_argument("--dry-run", action="store_true", help="validate and show, send nothing")
    parser.set_defaults(demo=False)


WOOTRIC = Vendor(
    name="wootric",
    title="Wootric end users, responses and declines",
    source=wootric_source,
    credential_keys=("client_id", "username", "access_token"),
    create_views=wootric_views,
    drop_views=drop_wootric_views,
    demo=_lazy("pipelines.wootric_demo", "run_demo"),
    resources=(
        *STREAMS,
        "responses_history",
        "nps_summary",
        "email_stats",
        "segments",
        "survey_templates",
        "email_stats_sources",
    ),
    default_excluded=("nps_summary", "email_stats"),
    bigquery_layout=BIGQUERY_LAYOUT,
    log_filters=(IntendedJsonHints(),),
    comments=(CommentTable("responses", "id", ("text",), nps=True),),
    totals=wootric_totals,
    checked_tables=WOOTRIC_CHECKED,
    history={"responses_history": "responses"},
    freshness_columns={
        **{name: spec.cursor_field for name, spec in STREAMS.items()},
        "responses_history": "valid_from",
        "nps_summary": "day",
        "email_stats": "day",
    },
    commands={
        "report": Command("write nps_report.png and nps_report.html from the warehouse", add_report_options, report),
        "themes": Command(THEMES_HELP, _themes_options, _themes("wootric")),
    },
)

WOKU = Vendor(
    name="woku",
    title="Woku responses, wokus, reviews, forms, flows and trackers",
    source=woku_source,
    credential_keys=("api_key",),
    resources=(
        *(f"{kind}_responses" for kind in SURVEYS),
        *(history_name(kind) for kind in SURVEYS),
        *(f"{kind}_tools" for kind in SURVEYS),
        "wokus",
        "forms",
        "flows",
        "external_tracker_definitions",
        "woku_reviews",
        "form_responses",
        "external_tracker_values",
    ),
    # its table is loaded by default all the same: the six lists it reads yield their own values. Run
    # alone it pages the lists the run does not load; the Airflow DAG makes no task of it, so no
    # list is paged twice (docs/woku.md#tracker-values)
    default_excluded=("external_tracker_values",),
    # an answer's comment is its text note, else its voice note's transcription (as in `feedback_all`)
    comments=tuple(
        CommentTable(f"{kind}_responses", "_id", ("textnote__description", "voicemail__transcription"), kind == "nps")
        for kind in SURVEYS
    ),
    create_views=woku_views,
    drop_views=drop_woku_views,
    demo=_lazy("pipelines.woku_demo", "run_demo"),
    totals=woku_totals,
    checked_tables=WOKU_CHECKED,
    history={history_name(kind): f"{kind}_responses" for kind in SURVEYS},
    freshness_columns={
        **{f"{kind}_responses": "created_at" for kind in SURVEYS},
        **{history_name(kind): "valid_from" for kind in SURVEYS},
        "woku_reviews": "created_at",
        "form_responses": "created_at",
    },
    commands={
        "trackers": Command(
            "write external tracker values (CRM ids, order numbers) onto Woku's records",
            _tracker_options,
            _lazy("pipelines.writeback.trackers", "run_trackers"),
        ),
        "voicemails": Command(
            "import audio reviews from a manifest, each exactly once",
            _voicemail_options,
            _lazy("pipelines.writeback.voicemails", "run_voicemails"),
        ),
        "themes": Command(THEMES_HELP, _themes_options, _themes("woku")),
    },
)

VENDORS = {vendor.name: vendor for vendor in (WOOTRIC, WOKU)}
