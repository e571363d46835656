"""The progress collector: a log line every few seconds, or live lines on a terminal; no real time."""

import io

from pipelines.runner.progress import SyncProgress
from sources.http_kit.pacing import Totals


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_without_a_terminal_one_line_every_period_with_requests_and_waits() -> None:
    clock, out = Clock(), io.StringIO()
    traffic = [Totals(50, 1, 2.0)]
    progress = SyncProgress(out, live=False, traffic=lambda: traffic[-1], clock=clock, log_period=5.0)
    with progress("Extract wootric"):
        progress.update("Resources", 1)  # dlt's own counter: not a resource
        progress.update("responses", 50)  # the first update shows at once
        traffic.append(Totals(80, 3, 14.5))
        clock.now += 4.9
        progress.update("responses", 50)  # inside the period: nothing
        clock.now += 0.2
        progress.update("declines", 7)
        progress.update("_dlt_pipeline_state", 1)
    lines = out.getvalue().splitlines()
    assert lines == [
        "progress (Extract wootric, 0s): responses 50 rows | 0 requests",
        "progress (Extract wootric, 5s): responses 100, declines 7 rows | 30 requests, 2 retries,"
        " waited 12.5s for rate limits and retries",
        "progress (Extract wootric, 5s): responses 100, declines 7 rows | 30 requests, 2 retries,"
        " waited 12.5s for rate limits and retries",
    ]


def test_on_a_terminal_each_resource_has_its_line_redrawn_in_place() -> None:
    clock, out = Clock(), io.StringIO()
    progress = SyncProgress(out, live=True, traffic=lambda: Totals(3), clock=clock)  # 3 before the step: 0 in it
    with progress("Extract woku"):
        progress.update("nps_responses", 100)
        clock.now += 1
        progress.update("wokus", 12)
    text = out.getvalue()
    first, second = text.split("\x1b[2F")  # the second drawing moves up over the first one's 2 lines
    assert first == "  nps_responses         100 rows\x1b[K\n                 0 requests, 0s\x1b[K\n"
    assert second.startswith("  nps_responses         100 rows\x1b[K\n  wokus                  12 rows\x1b[K\n")


def test_load_and_normalize_steps_are_not_counted_as_rows() -> None:
    out = io.StringIO()
    progress = SyncProgress(out, live=False, traffic=Totals, clock=Clock())
    with progress("Normalize"):
        progress.update("responses", 10)
    assert out.getvalue() == ""
