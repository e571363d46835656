"""Where write-back gets its Woku client and its dlt pipeline: the one place to re-point when they move.

Imported lazily: `pipelines/woku_pipeline.py` imports the write-back commands, so importing it at module
level here would be a cycle.
"""

import argparse
from typing import Any


def make_client() -> Any:
    """The Woku API client from the configuration the source reads (a ConfigError without an API key)."""
    from pipelines.woku_pipeline import make_client as woku_client

    return woku_client()


def make_pipeline(args: argparse.Namespace) -> Any:
    """A dlt pipeline on the user's destination and dataset, named `args.pipeline_name`."""
    from pipelines.woku_pipeline import make_pipeline as woku_pipeline

    return woku_pipeline(args)
