"""Several Wootric accounts in one dataset: an `account` column in every table and primary key.

Two sandboxes stand for two accounts whose ids overlap (both start at 1), so a primary key on `id`
alone would merge one account's records into the other's.
"""

from collections import Counter
from pathlib import Path
from typing import Any, Dict, List

from sandbox.wootric import generate_account
from tests.conftest import only_on, run_cli
from tests.support.accounts import accounts_env as vendor_accounts_env
from tests.support.summary import loaded
from tests.support.warehouse import assert_exact

TABLES = ("end_users", "responses", "declines")


def accounts_env(servers: Dict[str, Any]) -> Dict[str, str]:
    return vendor_accounts_env(
        "wootric", servers, lambda s: {"CLIENT_ID": s.client_id, "CLIENT_SECRET": s.client_secret}
    )


def of(rows: List[Dict[str, Any]], account: str) -> List[Dict[str, Any]]:
    return [row for row in rows if row["account"] == account]


def assert_accounts_exact(accounts: Dict[str, Any], read) -> None:
    for table in TABLES:
        rows = read(table)
        assert {row["account"] for row in rows} == set(accounts), table
        for name, account in accounts.items():
            assert_exact(table, account.truth(table), rows, account=name)


def test_two_accounts_with_overlapping_ids_land_side_by_side(workdir: Path, warehouse, start_sandbox) -> None:
    acme = generate_account(seed=31, end_users=120, responses=1500, declines=90, bursts=((70, "responses"),))
    brandb = generate_account(seed=32, end_users=90, responses=1100, declines=140)
    accounts = {"acme": acme, "brandb": brandb}
    overlap = {r["id"] for r in acme.truth("responses")} & {r["id"] for r in brandb.truth("responses")}
    assert len(overlap) >= 1000, "the test needs colliding ids"
    servers = {"acme": start_sandbox(acme), "brandb": start_sandbox(brandb)}
    env = accounts_env(servers)

    first = run_cli([*warehouse.args], workdir, env)
    assert first.returncode == 0, first.stderr
    assert_accounts_exact(accounts, warehouse.read)

    # reference lists: each account's rows replaced, the other's kept
    segments = Counter(row["account"] for row in warehouse.read("segments"))
    assert segments == {name: len(a.render_segments()) for name, a in accounts.items()}
    templates = Counter(row["account"] for row in warehouse.read("survey_templates"))
    assert set(templates) == set(accounts)

    # the views count each account on its own
    monthly = warehouse.read("nps_monthly")
    for name, account in accounts.items():
        counted = [r for r in account.truth("responses") if not r["excluded_from_calculations"]]
        assert sum(row["responses"] for row in of(monthly, name)) == len(counted), name
    feedback = warehouse.read("feedback")
    emails = {(name, u["id"]): u["email"] for name, a in accounts.items() for u in a.truth("end_users")}
    for row in feedback:
        assert row["email"] == emails.get((row["account"], row["end_user_id"])), row["response_id"]

    # a change in one account: the next run loads exactly that, and the other account is untouched
    added = {r["id"] for r in acme.add_responses(25)}
    edited = {r["id"] for r in brandb.update_end_users(7)}
    second = run_cli([*warehouse.args], workdir, env)
    assert second.returncode == 0, second.stderr
    assert_accounts_exact(accounts, warehouse.read)
    # rows loaded by the second run, as the CLI reports them (both accounts together)
    assert loaded(second.stdout) == {"responses": len(added), "end_users": len(edited)}, second.stdout
    assert Counter(row["account"] for row in warehouse.read("segments")) == segments
    assert Counter(row["account"] for row in warehouse.read("survey_templates")) == templates

    # a full refresh drops the shared tables once and reloads every account, also when the first
    # account has no rows for a table the second one fills
    acme.segments = []
    for args in (["--full-refresh"], ["--full-refresh", "--resources", "responses"], []):
        acme.add_responses(3)
        if "--resources" not in args:
            brandb.add_declines(2)
        again = run_cli([*warehouse.args, *args], workdir, env)
        assert again.returncode == 0, again.stderr
        assert_accounts_exact(accounts, warehouse.read)
        assert Counter(row["account"] for row in warehouse.read("segments")) == {
            "brandb": len(brandb.render_segments())
        }


@only_on("postgres")
def test_a_failing_account_does_not_stop_the_others(workdir: Path, warehouse, start_sandbox) -> None:
    acme = generate_account(seed=35, end_users=30, responses=200, declines=10)
    brandb = generate_account(seed=36, end_users=20, responses=150, declines=12)
    servers = {"acme": start_sandbox(acme), "brandb": start_sandbox(brandb)}
    env = accounts_env(servers)
    env["SOURCES__WOOTRIC__ACME__CREDENTIALS__CLIENT_SECRET"] = "wrong-secret-123"
    result = run_cli([*warehouse.args], workdir, env)
    assert result.returncode == 3, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == ["error: account 'acme': " + errors[0].split("account 'acme': ", 1)[1]], result.stderr
    assert "Traceback" not in result.stderr and "wrong-secret-123" not in result.stderr
    for table in TABLES:
        assert_exact(table, brandb.truth(table), warehouse.read(table), account="brandb")
        assert {row["account"] for row in warehouse.read(table)} == {"brandb"}


def test_an_account_without_its_own_credentials_is_refused(workdir: Path, start_sandbox) -> None:
    """dlt would fall back to `[sources.wootric.credentials]` and load one account's data under another's name."""
    acme = start_sandbox(generate_account(seed=33, end_users=10, responses=20, declines=2))
    env = accounts_env({"acme": acme})
    env["SOURCES__WOOTRIC__ACCOUNTS"] = "acme,brandb"
    env["SOURCES__WOOTRIC__CREDENTIALS__CLIENT_ID"] = acme.client_id
    env["SOURCES__WOOTRIC__CREDENTIALS__CLIENT_SECRET"] = acme.client_secret
    result = run_cli([], workdir, env)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "no credentials for 'brandb'" in result.stderr and "SOURCES__WOOTRIC__BRANDB__CREDENTIALS" in result.stderr
    assert acme.client_secret not in result.stderr
    assert acme.stats()["requests"] == 0


def test_a_bad_account_name_is_refused(workdir: Path, start_sandbox) -> None:
    acme = start_sandbox(generate_account(seed=34, end_users=10, responses=20, declines=2))
    env = accounts_env({"acme": acme})
    env["SOURCES__WOOTRIC__ACCOUNTS"] = "acme,Brand B"
    result = run_cli([], workdir, env)
    assert result.returncode == 2 and "is not an account name" in result.stderr, result.stderr
