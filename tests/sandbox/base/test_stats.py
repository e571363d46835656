"""Counters keep their declared order (the admin JSON) and reset to zero."""

from __future__ import annotations

from collections import Counter

from sandbox.base.stats import Stats


def test_totals_tallies_order_and_reset() -> None:
    stats = Stats({"requests": int, "by_path": Counter, "lost": int})
    stats.add("requests")
    stats.add("requests", 2)
    stats.bump("by_path", "/a")
    stats.bump("by_path", "/a")
    stats.bump("by_path", 404)
    snap = stats.snapshot()
    assert list(snap) == ["requests", "by_path", "lost"]
    assert snap == {"requests": 3, "by_path": {"/a": 2, 404: 1}, "lost": 0}
    assert stats.get("by_path", "/a") == 2 and stats.get("by_path", "/b") == 0 and stats.get("requests") == 3
    snap["by_path"]["/a"] = 99  # a snapshot is a copy
    assert stats.get("by_path", "/a") == 2
    stats.reset()
    assert stats.snapshot() == {"requests": 0, "by_path": {}, "lost": 0}
