"""Several Woku companies through the shared runner (`sources.woku.accounts`): side by side in one
dataset, each exact against its own sandbox; a failing company leaves the others loaded."""

from pathlib import Path
from typing import Any, Dict

from sandbox.woku import generate_company
from tests.conftest import only_on, run_cli
from tests.pipelines.test_woku_pipeline import TABLES, assert_table_exact
from tests.pipelines.test_woku_tracker_values import change_values, landed_by_entity, truth_by_entity
from tests.support.accounts import accounts_env


def companies_env(servers: Dict[str, Any]) -> Dict[str, str]:
    return accounts_env("woku", servers, lambda server: {"API_KEY": server.api_key})


def test_two_companies_land_side_by_side_exactly(workdir: Path, woku_warehouse, start_woku) -> None:
    companies = {
        "acme": generate_company(seed=71, nps_responses=300, reviews=120, form_responses=60),
        "globex": generate_company(seed=72, nps_responses=200, reviews=90, form_responses=40),
    }
    servers = {name: start_woku(company) for name, company in companies.items()}
    done = run_cli([*woku_warehouse.args], workdir, companies_env(servers), script="woku_pipeline.py")
    assert done.returncode == 0, done.stderr
    for table in TABLES:
        rows = woku_warehouse.read(table)
        assert {row["account"] for row in rows} == set(companies), table
        for name, company in companies.items():
            assert_table_exact(table, company, [r for r in rows if r["account"] == name], account=name)

    # a change in one company loads into its rows only
    companies["globex"].add_responses("nps", 15)
    again = run_cli([*woku_warehouse.args], workdir, companies_env(servers), script="woku_pipeline.py")
    assert again.returncode == 0, again.stderr
    rows = woku_warehouse.read("nps_responses")
    for name, company in companies.items():
        assert_table_exact("nps_responses", company, [r for r in rows if r["account"] == name], account=name)


def test_one_list_of_two_companies_replaces_that_companys_values_of_that_list(
    workdir: Path, woku_warehouse, start_woku
) -> None:
    """Tracker values are replaced per (account, entity type): a run of one list changes only the
    values of that list's records, in each company, and no other company's rows."""
    companies = {
        "acme": generate_company(seed=76, nps_responses=40, reviews=30, flows=6),
        "globex": generate_company(seed=77, nps_responses=40, reviews=30, flows=5),
    }
    servers = {name: start_woku(company) for name, company in companies.items()}
    env = companies_env(servers)
    assert run_cli([*woku_warehouse.args], workdir, env, script="woku_pipeline.py").returncode == 0
    before = woku_warehouse.read("external_tracker_values")

    change_values(companies["acme"], "flow")
    change_values(companies["acme"], "form")  # not loaded below: acme's old form values stay
    done = run_cli([*woku_warehouse.args, "--resources", "flows"], workdir, env, script="woku_pipeline.py")
    assert done.returncode == 0, done.stderr
    rows = woku_warehouse.read("external_tracker_values")
    for name, company in companies.items():
        old = landed_by_entity([r for r in before if r["account"] == name])
        flows = {i: v for i, v in truth_by_entity(company).items() if v[0] == "flow"}
        want = {i: v for i, v in old.items() if v[0] != "flow"} | flows
        assert landed_by_entity([r for r in rows if r["account"] == name]) == want, name
    assert {r["account"] for r in rows} == set(companies)


@only_on("postgres", "woku_warehouse")
def test_a_company_with_a_wrong_key_is_named_and_the_other_lands(workdir: Path, woku_warehouse, start_woku) -> None:
    good = generate_company(seed=73, nps_responses=120, reviews=40)
    servers = {"acme": start_woku(generate_company(seed=74, nps_responses=50)), "globex": start_woku(good)}
    env = companies_env(servers)
    env["SOURCES__WOKU__ACME__CREDENTIALS__API_KEY"] = "wrong-key-987654"
    done = run_cli([*woku_warehouse.args], workdir, env, script="woku_pipeline.py")
    assert done.returncode == 3, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith("error: account 'acme': "), done.stderr
    assert "wrong-key-987654" not in done.stderr + done.stdout
    for table in ("nps_responses", "woku_reviews", "wokus"):
        rows = woku_warehouse.read(table)
        assert {row["account"] for row in rows} == {"globex"}, table
        assert_table_exact(table, good, rows, account="globex")


def test_a_listed_company_without_its_own_key_is_refused(workdir: Path, start_woku) -> None:
    server = start_woku(generate_company(seed=75, nps_responses=10))
    env = {**companies_env({"acme": server}), "SOURCES__WOKU__ACCOUNTS": "acme,globex"}
    done = run_cli([], workdir, env, script="woku_pipeline.py")
    assert done.returncode == 2, done.stderr
    assert "no credentials for 'globex'" in done.stderr and "SOURCES__WOKU__GLOBEX__CREDENTIALS__API_KEY" in done.stderr


def test_feedback_all_spans_every_account_of_both_vendors(workdir: Path, start_woku, start_sandbox) -> None:
    from collections import Counter

    from sandbox.wootric import generate_account
    from tests.support.warehouse import read_duckdb

    companies = {
        name: generate_company(seed=90 + i, nps_responses=80, reviews=30) for i, name in enumerate(("w1", "w2"))
    }
    accounts = {name: generate_account(seed=95 + i, end_users=20, responses=70) for i, name in enumerate(("t1", "t2"))}
    env = companies_env({name: start_woku(company) for name, company in companies.items()})
    env.update(
        accounts_env(
            "wootric",
            {name: start_sandbox(account) for name, account in accounts.items()},
            lambda s: {"CLIENT_ID": s.client_id, "CLIENT_SECRET": s.client_secret},
        )
    )
    for script in ("woku_pipeline.py", "wootric_pipeline.py"):
        done = run_cli([], workdir, env, script=script)
        assert done.returncode == 0, done.stderr
    rows = read_duckdb(workdir / "feedback.duckdb", "woku", "feedback_all")
    got = Counter((r["vendor"], r["account"]) for r in rows)
    want = {("wootric", name): a.count("responses") for name, a in accounts.items()}
    for name, company in companies.items():
        want[("woku", name)] = sum(
            company.count(kind) for kind in ("nps_responses", "csat_responses", "ces_responses", "woku_reviews")
        )
    assert got == want
