"""Throwaway folders: a killed process's folder is removed by the next one, a running process's is kept."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from pipelines.runner.bounded import scratch_folder


def test_a_folder_left_by_a_killed_repair_is_removed_by_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(gone.stdout)  # that process has ended
    left = tmp_path / f"feedback-repair-{dead}-abc123"
    (left / "wootric_repair").mkdir(parents=True)
    running = tmp_path / f"feedback-repair-{os.getppid()}-def456"  # a repair still going on
    running.mkdir()
    other = tmp_path / f"feedback-verify-{dead}-ghi789"  # another kind: its own turn cleans it

    other.mkdir()
    with scratch_folder("repair") as folder:
        assert Path(folder).is_dir() and Path(folder).name.startswith(f"feedback-repair-{os.getpid()}-")
        assert not left.exists() and running.exists() and other.exists()
    assert not Path(folder).exists()
