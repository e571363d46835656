"""The destination gate across processes: a DuckDB load turn held elsewhere is waited for, bounded."""

from pathlib import Path

import pytest
from filelock import FileLock

from pipelines.runner.gate import DestinationGate, TurnTimeout


def test_a_turn_held_by_another_process_ends_the_wait_at_its_bound(tmp_path: Path) -> None:
    duckdb_file = str(tmp_path / "feedback.duckdb")
    gate = DestinationGate("duckdb:test", duckdb_path=duckdb_file, max_wait=0)
    with FileLock(f"{duckdb_file}.load.lock"):  # another process's turn
        with pytest.raises(TurnTimeout, match=r"^account 'acme': waited 0s for another process loading into"):
            with gate.turn("account 'acme'"):
                pytest.fail("the turn was given while another process held it")
    with gate.turn("account 'acme'"):  # free again
        pass
