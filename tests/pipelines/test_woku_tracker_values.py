"""`external_tracker_values` read by the six lists as they page them (sources/woku/helpers/trackers.py),
end to end on DuckDB and PostgreSQL: no list paged twice, one list replacing only its own entity
type's values, and a dataset loaded by the version that paged the lists again carried over."""

import math
from pathlib import Path
from typing import Any, Dict, List

from sandbox.woku import generate_company
from tests.conftest import only_on, run_cli, woku_env
from tests.pipelines.test_woku_pipeline import assert_table_exact

TABLE = "external_tracker_values"
#: the sandbox's page size in these tests: every list but the tools' spans pages
LIMIT = 5
#: the lists whose records carry tracker values -> (entity type, the list's route), as the API has them
LISTS = {
    "nps_tools": ("nps", "GET /v1/nps-tools"),
    "csat_tools": ("csat", "GET /v1/csat-tools"),
    "ces_tools": ("ces", "GET /v1/ces-tools"),
    "forms": ("form", "GET /v1/forms"),
    "flows": ("flow", "GET /v1/flows"),
    "wokus": ("woku", "GET /v1/wokus"),
}
#: the sandbox's routes for one record's tracker values
VALUE_ROUTES = ("GET /v1/external-trackers/{entityType}/{id}", "GET /v1/external-trackers/wokus/{wokuId}")


def company_with_paged_lists(seed: int) -> Any:
    return generate_company(seed=seed, nps_responses=40, reviews=60, wokus=12, forms=7, flows=6, form_responses=30)


def truth_by_entity(company: Any) -> Dict[str, tuple]:
    """`_id` -> (entity_type, entity_id, value) of every tracker value the sandbox holds."""
    rows = company.truth("external_tracker_values") + company.truth("woku_tracker_values")
    return {r["_id"]: (r.get("entityType", "woku"), r.get("entityId", r.get("wokuId")), r["value"]) for r in rows}


def landed_by_entity(rows: List[Dict[str, Any]]) -> Dict[str, tuple]:
    assert len({r["_id"] for r in rows}) == len(rows), "duplicated tracker values"
    return {r["_id"]: (r["entity_type"], r["entity_id"], r["value"]) for r in rows}


def assert_values_exact(company: Any, rows: List[Dict[str, Any]], account: str = "default") -> None:
    assert_table_exact(TABLE, company, rows, account=account)
    assert landed_by_entity(rows) == truth_by_entity(company)


def list_pages(company: Any) -> Dict[str, int]:
    """GET route of each tracked list -> the pages it takes at LIMIT records a page."""
    return {route: math.ceil(company.count(name) / LIMIT) for name, (_, route) in LISTS.items()}


def value_requests(stats: Dict[str, Any]) -> int:
    return sum(stats["by_route"].get(route, 0) for route in VALUE_ROUTES)


def entities(company: Any) -> int:
    return sum(company.count(name) for name in LISTS)


def change_values(company: Any, entity_type: str) -> None:
    """A new value on one record of `entity_type` and a changed one on another."""
    active = next(d["name"] for d in company.truth("external_tracker_definitions") if d["active"])
    kind = next(name for name, (et, _) in LISTS.items() if et == entity_type)
    ids = company.ids(kind)
    company.assign_tracker(entity_type, ids[0], active, "NEW-1")
    company.assign_tracker(entity_type, ids[-1], active, "NEW-2")


@only_on("duckdb", "woku_warehouse")
def test_a_full_run_pages_every_list_once(workdir: Path, woku_warehouse, start_woku) -> None:
    company = company_with_paged_lists(seed=91)
    server = start_woku(company, max_limit=LIMIT)
    done = run_cli([*woku_warehouse.args], workdir, woku_env(server), script="woku_pipeline.py")
    assert done.returncode == 0, done.stderr
    assert_values_exact(company, woku_warehouse.read(TABLE))
    stats = server.stats()
    pages = list_pages(company)
    # each list once: the values are read from the pages the list loads (it used to be read twice)
    assert {route: stats["by_route"][route] for route in pages} == pages
    assert value_requests(stats) == entities(company)
    for name in LISTS:
        assert_table_exact(name, company, woku_warehouse.read(name))


def test_one_list_replaces_only_its_own_entity_types_values(workdir: Path, woku_warehouse, start_woku) -> None:
    company = company_with_paged_lists(seed=92)
    server = start_woku(company, max_limit=LIMIT)
    env = woku_env(server)
    assert run_cli([*woku_warehouse.args], workdir, env, script="woku_pipeline.py").returncode == 0
    loaded = landed_by_entity(woku_warehouse.read(TABLE))

    # values change on wokus and on NPS tools; only wokus are loaded: theirs are replaced, every
    # other type's values stay as they were (NPS tools' old values included)
    change_values(company, "woku")
    change_values(company, "nps")
    server.reset_stats()
    only = run_cli([*woku_warehouse.args, "--resources", "wokus"], workdir, env, script="woku_pipeline.py")
    assert only.returncode == 0, only.stderr
    truth = truth_by_entity(company)
    want = {i: v for i, v in loaded.items() if v[0] != "woku"} | {i: v for i, v in truth.items() if v[0] == "woku"}
    assert landed_by_entity(woku_warehouse.read(TABLE)) == want
    assert server.stats()["by_route"]["GET /v1/wokus"] == math.ceil(company.count("wokus") / LIMIT)
    assert value_requests(server.stats()) == company.count("wokus")

    # a full refresh of one list drops that list's table, not the tracker values of the others
    again = run_cli(
        [*woku_warehouse.args, "--resources", "wokus", "--full-refresh"], workdir, env, script="woku_pipeline.py"
    )
    assert again.returncode == 0, again.stderr
    assert landed_by_entity(woku_warehouse.read(TABLE)) == want

    # the resource alone reads every list the run does not load, once, and loads none of them
    server.reset_stats()
    alone = run_cli(
        [*woku_warehouse.args, "--resources", "nps_tools,external_tracker_values"],
        workdir,
        env,
        script="woku_pipeline.py",
    )
    assert alone.returncode == 0, alone.stderr
    assert_values_exact(company, woku_warehouse.read(TABLE))
    stats = server.stats()
    pages = list_pages(company)
    assert {route: stats["by_route"][route] for route in pages} == pages
    assert value_requests(stats) == entities(company)
    assert " wokus " not in alone.stdout and " forms " not in alone.stdout, alone.stdout


def test_an_entity_type_whose_values_all_disappear_is_cleared(workdir: Path, start_woku) -> None:
    """Issue 19: the values of one entity type all removed on Woku (here every flow's) leave none of
    that type in the table after the next run; the other types' values stay exact."""
    company = company_with_paged_lists(seed=93)
    server = start_woku(company, max_limit=LIMIT)
    env = woku_env(server)
    assert run_cli([], workdir, env, script="woku_pipeline.py").returncode == 0
    assert "flow" in {v[0] for v in landed_by_entity(read_values(workdir)).values()}
    with company.lock:  # the vendor's operators removed every flow's values
        for (entity_type, _), values in company._values.items():
            if entity_type == "flow":
                values.clear()

    again = run_cli([], workdir, env, script="woku_pipeline.py")

    assert again.returncode == 0, again.stdout + again.stderr
    assert landed_by_entity(read_values(workdir)) == truth_by_entity(company)
    assert "flow" not in {v[0] for v in truth_by_entity(company).values()}


def read_values(workdir: Path) -> List[Dict[str, Any]]:
    import duckdb

    with duckdb.connect(str(workdir / "feedback.duckdb"), read_only=True) as con:
        cur = con.execute(f"SELECT * FROM woku.{TABLE}")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
