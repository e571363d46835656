"""Woku → warehouse, and back. `python pipelines/woku_pipeline.py --help` (installed: `woku-pipeline`).

Configuration comes from dlt (`.dlt/*.toml` or environment variables such as
SOURCES__WOKU__CREDENTIALS__API_KEY); this script only hands it to the shared runner.
"""

import sys
from pathlib import Path
from typing import List, Optional

if __package__ in (None, ""):  # run as a script: make the project importable without installing it
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.runner import main as run  # noqa: E402
from pipelines.vendors import WOKU  # noqa: E402


def main(argv: Optional[List[str]] = None) -> int:
    return run(WOKU, argv)


if __name__ == "__main__":
    sys.exit(main())
