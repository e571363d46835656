"""Woku → warehouse, and back. `python pipelines/woku_pipeline.py --help` (installed: `woku-pipeline`).

Configuration comes from dlt (`.dlt/*.toml` or environment variables such as
SOURCES__WOKU__CREDENTIALS__API_KEY); this script only hands it to the shared runner.
"""

import sys
from functools import partial

from pipelines.runner import main as run
from pipelines.vendors import WOKU

#: the console script's entry point; argv defaults to the command line
main = partial(run, WOKU)

if __name__ == "__main__":
    sys.exit(main())
