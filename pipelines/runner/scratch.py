"""Throwaway pipeline folders for `verify` (a repair's pipeline, the views, the reconciliation load).

Each lives in the temporary directory as `feedback-<kind>-<pid>-<random>` and goes when the block ends.
A process killed inside the block leaves its folder behind, so each new one first removes the folders of
its kind whose process no longer runs.
"""

import contextlib
import glob
import os
import shutil
import tempfile
from typing import Iterator

from pipelines.runner.run_record import pid_alive


@contextlib.contextmanager
def scratch_folder(kind: str) -> Iterator[str]:
    """A new temporary folder for the block, after removing those a killed process left."""
    prefix = f"feedback-{kind}-"
    for left in glob.glob(os.path.join(tempfile.gettempdir(), f"{prefix}*")):
        pid = os.path.basename(left)[len(prefix) :].split("-", 1)[0]
        if pid.isdigit() and not pid_alive(int(pid)):
            shutil.rmtree(left, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix=f"{prefix}{os.getpid()}-") as folder:
        yield folder
