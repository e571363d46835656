"""The summary endpoints end to end: daily series with a trailing window, and the reference lists."""

from datetime import datetime, timedelta, timezone
from pathlib import Path

from sandbox.wootric import generate_account
from tests.conftest import run_cli, sandbox_env

RESOURCES = "nps_summary,email_stats,segments,survey_templates,email_stats_sources"


def test_summaries_land_and_later_runs_ask_only_the_trailing_days(workdir: Path, warehouse, start_sandbox) -> None:
    today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    first = today - timedelta(days=40)
    account = generate_account(seed=31, end_users=80, responses=900, declines=60, start=first, span_days=40)
    server = start_sandbox(account)
    env = sandbox_env(server, SOURCES__WOOTRIC__METRICS_START_DATE=first.date().isoformat())

    done = run_cli([*warehouse.args, "--resources", RESOURCES], workdir, env)
    assert done.returncode == 0, done.stderr
    days = [(first + timedelta(days=i)).date() for i in range(41)]
    assert server.stats()["by_path"]["/v1/nps_summary"] == len(days)

    nps = {row["day"]: row for row in warehouse.read("nps_summary")}
    assert sorted(nps) == days
    for day in days:
        want = account.nps_summary(day, day)
        got = nps[day]
        assert {k: got[k] for k in want} == want, day

    stats = {row["day"]: row for row in warehouse.read("email_stats")}
    assert sorted(stats) == days
    for day in days[:5]:
        raw = account.email_stats(day, day)["email_stats"]["raw_results"]
        assert stats[day]["raw_results__processed"] == raw["processed"]
        assert stats[day]["raw_results__open"] == raw["open"]

    segments = warehouse.read("segments")
    assert sorted(s["name"] for s in segments) == sorted(s["name"] for s in account.segments)
    assert all(s["created_at"].tzinfo is not None for s in segments)

    templates = warehouse.read("survey_templates")
    languages = warehouse.read("survey_templates__languages")
    payload = account.survey_templates
    assert sorted(t["id"] for t in templates) == sorted(t["id"] for t in payload["survey_templates"])
    assert [t["id"] for t in templates if t["is_default"]] == [payload["default_survey_template_id"]]
    assert len(languages) == sum(len(t["languages"]) for t in payload["survey_templates"])

    sources = warehouse.read("email_stats_sources")
    want_sources = {("ongoing", s["id"]) for s in account.email_sources["ongoing"]}
    want_sources |= {("send", str(s["id"])) for s in account.email_sources["sends"]}
    assert {(s["kind"], s["id"]) for s in sources} == want_sources

    account.add_responses(5)
    server.reset_stats()
    done = run_cli([*warehouse.args, "--resources", RESOURCES], workdir, env)
    assert done.returncode == 0, done.stderr
    assert server.stats()["by_path"]["/v1/nps_summary"] == 3, "only the trailing days are asked again"
    nps = {row["day"]: row for row in warehouse.read("nps_summary")}
    assert len(nps) == len(days)
    assert nps[today.date()]["responses"] == account.nps_summary(today.date(), today.date())["responses"]
    assert len(warehouse.read("segments")) == len(account.segments), "replaced, not appended"
