"""Wootric → warehouse. `python pipelines/wootric_pipeline.py --help` (installed: `wootric-pipeline`).

Configuration comes from dlt (`.dlt/*.toml` or environment variables such as
SOURCES__WOOTRIC__CREDENTIALS__CLIENT_ID); this script only hands it to the shared runner.
"""

import sys
from functools import partial

from pipelines.runner import main as run
from pipelines.vendors import WOOTRIC

#: the console script's entry point; argv defaults to the command line
main = partial(run, WOOTRIC)

if __name__ == "__main__":
    sys.exit(main())
