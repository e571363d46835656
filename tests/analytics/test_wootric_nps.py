"""The analyst views against the API's own nps_summary, on DuckDB and on the real PostgreSQL."""

import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any, List

import duckdb
import psycopg2
import pytest
import requests

from analytics.wootric_nps import nps_expression
from sandbox.wootric import generate_account
from tests.conftest import run_cli, sandbox_env
from tests.support.warehouse import PG_DSN, drop_postgres_dataset, json_value

RANGE_SQL = (
    "SELECT COALESCE(SUM(responses), 0), COALESCE(SUM(promoters), 0), COALESCE(SUM(passives), 0),"
    " COALESCE(SUM(detractors), 0), {nps} FROM {ds}.nps_daily WHERE day BETWEEN {a} AND {b}"
).replace("{nps}", nps_expression("SUM(promoters)", "SUM(detractors)", "SUM(responses)"))


def api_summary(server: Any, token: str, start: date, end: date) -> dict:
    params = {"date[start]": f"'{start}'", "date[end]": f"'{end}'"}
    return requests.get(
        server.url + "/v1/nps_summary", params=params, headers={"Authorization": f"Bearer {token}"}
    ).json()


def ranges(first: date, last: date) -> List[tuple]:
    days = [(first + timedelta(days=i),) * 2 for i in range((last - first).days + 1)]
    months, d = [], first.replace(day=1)
    while d <= last:
        nxt = (d + timedelta(days=32)).replace(day=1)
        months.append((d, nxt - timedelta(days=1)))
        d = nxt
    return [
        (first, last),
        *months,
        *days,
        (first + timedelta(days=10), first + timedelta(days=40)),
        (last + timedelta(days=5), last + timedelta(days=9)),
    ]


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse(request, workdir: Path, start_sandbox):
    account = generate_account(seed=21, end_users=300, responses=3000, declines=200, span_days=120)
    server = start_sandbox(account)
    dataset = "wootric" if request.param == "duckdb" else f"nps_{uuid.uuid4().hex[:8]}"
    done = run_cli(["--destination", request.param, "--dataset-name", dataset], workdir, sandbox_env(server))
    assert done.returncode == 0, done.stderr
    assert "analyst views: nps_daily, nps_monthly, nps_by_segment, feedback" in done.stdout
    if request.param == "duckdb":
        con = duckdb.connect(str(workdir / "feedback.duckdb"), read_only=True)

        def query(sql: str, *args: Any) -> List[tuple]:
            return con.execute(sql.replace("%s", "?"), list(args)).fetchall()

        yield account, server, dataset, query
        con.close()
    else:
        con = psycopg2.connect(PG_DSN)

        def query(sql: str, *args: Any) -> List[tuple]:
            with con.cursor() as cur:
                cur.execute(sql, args)
                return cur.fetchall()

        yield account, server, dataset, query
        con.close()
        drop_postgres_dataset(dataset)


def test_nps_daily_matches_the_api_nps_summary_for_every_range(warehouse) -> None:
    account, server, dataset, query = warehouse
    token = server.issue_token()
    created = [r["created_at"].date() for r in account.truth("responses")]
    checked = ties = 0
    for start, end in ranges(min(created), max(created)):
        n, p, pas, d, nps = query(RANGE_SQL.format(ds=dataset, a="%s", b="%s"), start, end)[0]
        api = api_summary(server, token, start, end)
        assert (n, p, pas, d) == (api["responses"], api["promoters"], api["passives"], api["detractors"]), (start, end)
        assert (nps if n else 0) == api["nps"], f"{start}..{end}: nps {nps} vs the API's {api['nps']} (n={n})"
        checked += 1
        ties += bool(n) and (200 * (p - d)) % (2 * n) == n  # exactly x.5 before rounding
    assert checked > 120 and ties > 0, (checked, ties)


def test_feedback_and_segments_hold_what_the_account_holds(warehouse) -> None:
    account, _server, dataset, query = warehouse
    users = {u["id"]: u for u in account.truth("end_users")}
    rows = {r[0]: r for r in query(f"SELECT response_id, score, category, text, tags, email FROM {dataset}.feedback")}
    for rec in account.truth("responses"):
        _id, score, category, text, tags, email = rows[rec["id"]]
        assert score == rec["score"] and (text or "") == (rec["text"] or "")
        assert category == ("promoter" if score >= 9 else "passive" if score >= 7 else "detractor")
        assert json_value(tags) == rec["tags"]
        assert email == users[rec["end_user_id"]]["email"]

    counted = [r for r in account.truth("responses") if not r["excluded_from_calculations"]]
    by_plan: dict = {}
    for r in counted:
        plan = r["end_user"]["properties"].get("plan")
        if plan is not None:
            by_plan.setdefault(str(plan), []).append(r["score"])
    got = {
        v: (n, p, d)
        for v, n, p, d in query(
            f"SELECT value, responses, promoters, detractors FROM {dataset}.nps_by_segment WHERE segment = 'plan'"
        )
    }
    want = {v: (len(s), sum(x >= 9 for x in s), sum(x <= 6 for x in s)) for v, s in by_plan.items()}
    assert got == want
