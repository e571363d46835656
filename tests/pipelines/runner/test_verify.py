"""`verify`'s bookkeeping (pipelines/runner/verify.py): which figures differ, what the second look
after a repair replaces, what is printed; and its command line."""

from datetime import datetime, timezone
from pathlib import Path

from pipelines.runner.verify import Finding, _latest, conclude, id_findings, report
from pipelines.vendors import WOOTRIC
from sources.wootric.checks import TABLES
from tests.conftest import run_cli

JAN, FEB = datetime(2024, 1, 1, tzinfo=timezone.utc), datetime(2024, 2, 1, tzinfo=timezone.utc)
MAR = datetime(2024, 3, 1, tzinfo=timezone.utc)


def test_id_findings_per_month_both_ways() -> None:
    theirs = {1: JAN, 2: JAN, 3: FEB}
    ours = {1: JAN, 3: FEB, 9: JAN}
    jan, feb = id_findings("acme", TABLES["declines"], [(JAN, FEB), (FEB, MAR)], theirs, ours)
    assert (jan.api, jan.warehouse, jan.api_only, jan.warehouse_only, jan.differs) == (2, 2, [2], [9], True)
    assert (feb.api_only, feb.warehouse_only, feb.differs) == ([], [], False)


def test_the_check_after_a_repair_is_what_counts() -> None:
    before = Finding("acme", "responses", "responses", JAN, 10, 12)
    after = Finding("acme", "responses", "responses", JAN, 10, 10, after_repair=True)
    other = Finding("acme", "responses", "responses", FEB, 5, 5)
    assert _latest([before, after, other]) == [after, other]
    assert _latest([after, before]) == [after]


def test_report_prints_the_months_that_differ(capsys) -> None:
    deep = Finding("acme", "responses", "ids", FEB, 30, 2, list(range(100, 128)), [7])
    report(
        [Finding("acme", "responses", "promoters", JAN, 10, 12), Finding("acme", "declines", "ids", JAN, 3, 3), deep]
    )
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "differs: acme responses 2024-01 promoters: api 10, warehouse 12 (+2)"
    assert out[1] == "differs: acme responses 2024-02 ids: api 30, warehouse 2"
    assert out[2].startswith("  the API holds, the warehouse lacks (28): 100, 101,") and out[2].endswith("and 8 more")
    assert out[3] == "  the warehouse holds, the API lacks (1): 7"
    assert len(out) == 4


def test_cli_refuses_a_bad_month_and_a_dataset_never_loaded(workdir: Path) -> None:
    env = {"SOURCES__WOOTRIC__CREDENTIALS__CLIENT_ID": "id", "SOURCES__WOOTRIC__CREDENTIALS__CLIENT_SECRET": "s3cret"}
    bad = run_cli(["verify", "--months", "2024-13"], workdir, env)
    assert bad.returncode == 2 and bad.stderr.strip() == "error: --months: '2024-13' is not a month", bad.stderr
    never = run_cli(["verify"], workdir, env)
    assert never.returncode == 8, never.stderr
    assert "has never been loaded" in never.stdout and "s3cret" not in never.stdout + never.stderr
    assert not (workdir / "feedback.duckdb").exists()


def test_the_last_line_after_a_repair_does_not_advise_another(capsys) -> None:
    differs = Finding("acme", "responses", "responses", datetime(2024, 1, 1, tzinfo=timezone.utc), 5, 4)
    assert conclude(WOOTRIC, [differs], 3, [], repaired=True) == 9
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert "still differ after the repair" in last and "--repair" not in last, last
    assert conclude(WOOTRIC, [differs], 3, [], repaired=False) == 9
    assert "verify --repair` loads them again" in capsys.readouterr().out
    assert conclude(WOOTRIC, [], 3, ["initech"], repaired=False) == 8
    assert capsys.readouterr().out.startswith("not checked: initech (never loaded)")
