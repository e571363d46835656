"""The dbt package (dbt/): its models are the views' own SQL, and `dbt build` in an analyst's project
that adds it through packages.yml gives every view's rows exactly, on DuckDB and on the real PostgreSQL,
over datasets the pipelines loaded from the sandboxes."""

import os
import re
import subprocess
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Tuple
from urllib.parse import urlsplit

import duckdb
import psycopg2
import pytest
import yaml

from analytics import dbt_models
from sandbox.woku import generate_company
from sandbox.wootric import generate_account
from tests.conftest import ROOT, run_cli, sandbox_env, woku_env
from tests.support.warehouse import PG_DSN, drop_postgres_dataset

PACKAGE = ROOT / "dbt"
OFFLINE_DBT = Path(__file__).with_name("offline_dbt.py")
#: seconds one dbt command may take on a loaded 2-core machine (it takes a few when idle)
DBT_TIMEOUT = 240
#: the schema the analyst's project builds the models in
MODELS_SCHEMA = "nps_models"

Query = Callable[[str], Tuple[List[str], List[tuple]]]


def test_the_checked_in_models_are_the_views_sql() -> None:
    rendered, on_disk = dbt_models.render(), dbt_models.written()
    differ = sorted(path for path in rendered.keys() | on_disk.keys() if rendered.get(path) != on_disk.get(path))
    assert differ == [], f"dbt/models differ from the views' SQL: {differ}; run `python -m analytics.dbt_models`"


def documented() -> Dict[str, List[str]]:
    """schema.yml's column names by model."""
    schema = yaml.safe_load((PACKAGE / "models" / "schema.yml").read_text())
    return {model["name"]: [column["name"] for column in model["columns"]] for model in schema["models"]}


def test_every_model_is_documented() -> None:
    models = {Path(path).stem for path in dbt_models.render()}
    assert set(documented()) == models, "a model without its entry in dbt/models/schema.yml, or the reverse"


@dataclass
class Loaded:
    """Both vendors' datasets loaded by the pipelines, and how dbt and the test reach them."""

    kind: str
    wootric_dataset: str
    woku_dataset: str
    output: Dict[str, Any]
    account: Any
    company: Any


def _connect(loaded: Loaded) -> Tuple[Query, Callable[[], None]]:
    """After dbt: DuckDB lets one process write a file while nobody else has it open."""
    if loaded.kind == "duckdb":
        con: Any = duckdb.connect(loaded.output["path"], read_only=True)
        cursor = con
    else:
        con = psycopg2.connect(PG_DSN)
        cursor = con.cursor()

    def query(sql: str) -> Tuple[List[str], List[tuple]]:
        cursor.execute(sql)
        return [d[0] for d in cursor.description], cursor.fetchall()

    return query, con.close


def _output(kind: str, workdir: Path) -> Dict[str, Any]:
    """The profiles.yml target dbt builds in: the pipelines' DuckDB file, or the test's PostgreSQL."""
    if kind == "duckdb":
        return {"type": "duckdb", "path": str(workdir / "feedback.duckdb"), "schema": MODELS_SCHEMA, "threads": 1}
    dsn = urlsplit(PG_DSN)
    return {
        "type": "postgres",
        "host": dsn.hostname,
        "port": dsn.port or 5432,
        "user": dsn.username,
        "password": dsn.password or "",
        "dbname": dsn.path.lstrip("/"),
        "schema": f"nps_models_{uuid.uuid4().hex[:8]}",
        "threads": 2,
    }


@pytest.fixture(params=["duckdb", "postgres"])
def loaded(request: pytest.FixtureRequest, workdir: Path, start_sandbox: Any, start_woku: Any) -> Iterator[Loaded]:
    kind = request.param
    suffix = "" if kind == "duckdb" else f"_{uuid.uuid4().hex[:8]}"
    wootric_ds, woku_ds = f"wootric{suffix}", f"woku{suffix}"
    account = generate_account(seed=5, end_users=150, responses=1200, declines=150, span_days=150)
    company = generate_company(
        seed=5,
        start=datetime(2024, 1, 1, tzinfo=timezone.utc),
        span_days=90,
        nps_responses=600,
        csat_responses=400,
        ces_responses=300,
    )
    output = _output(kind, workdir)
    try:
        for args, env, script in (
            ([wootric_ds], sandbox_env(start_sandbox(account)), "wootric_pipeline.py"),
            ([woku_ds], woku_env(start_woku(company)), "woku_pipeline.py"),
        ):
            done = run_cli(["--destination", kind, "--dataset-name", *args], workdir, env, script=script)
            assert done.returncode == 0, done.stderr
        yield Loaded(kind, wootric_ds, woku_ds, output, account, company)
    finally:
        if kind == "postgres":
            for dataset in (wootric_ds, woku_ds, output["schema"]):
                drop_postgres_dataset(dataset)


def analyst_project(folder: Path, loaded: Loaded) -> Path:
    """An analyst's dbt project that adds the package by its path, as dbt/README.md says, with its own
    profiles.yml (dlt's DuckDB profile would install extensions from the internet)."""
    folder.mkdir()
    project = {
        "name": "analyst",
        "version": "1.0.0",
        "config-version": 2,
        "profile": "feedback",
        "vars": {"feedback_connectors": {"wootric_schema": loaded.wootric_dataset, "woku_schema": loaded.woku_dataset}},
    }
    files = {
        "dbt_project.yml": project,
        "packages.yml": {"packages": [{"local": str(PACKAGE)}]},
        "profiles.yml": {"feedback": {"target": "test", "outputs": {"test": loaded.output}}},
    }
    for name, content in files.items():
        (folder / name).write_text(yaml.safe_dump(content))
    return folder


def dbt(project: Path, *args: str) -> str:
    """Run dbt as an analyst would, with its usage statistics off: loopback only, and proven so."""
    guard = str(ROOT / "tests" / "support" / "loopback_only")
    refused = project / "refused_connections.log"
    env = {
        **os.environ,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_PROFILES_DIR": str(project),
        "PYTHONPATH": os.pathsep.join(p for p in (guard, os.environ.get("PYTHONPATH")) if p),
    }
    command = [sys.executable, str(OFFLINE_DBT), str(refused), *args]
    done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=DBT_TIMEOUT)
    assert done.returncode == 0, f"dbt {' '.join(args)} exited {done.returncode}:\n{done.stdout[-4000:]}{done.stderr}"
    assert not refused.exists(), f"dbt {' '.join(args)} tried to reach past this machine: {refused.read_text()}"
    return done.stdout


def test_dbt_build_gives_every_views_rows(loaded: Loaded, tmp_path: Path) -> None:
    project = analyst_project(tmp_path / "analyst", loaded)
    dbt(project, "deps")
    built = dbt(project, "build")
    models = [(Path(path).parent.name, Path(path).stem) for path in dbt_models.render()]
    passed = re.search(r"Done\. PASS=(\d+) WARN=0 ERROR=0 SKIP=0", built)
    assert passed and int(passed[1]) > len(models), built[-2000:]  # schema.yml's tests ran beside the models
    query, close = _connect(loaded)
    schema = loaded.output["schema"]
    try:
        for source, name in models:
            dataset = loaded.wootric_dataset if source == "wootric" else loaded.woku_dataset
            view_columns, view_rows = query(f"SELECT * FROM {dataset}.{name}")
            columns, rows = query(f"SELECT * FROM {schema}.{name}")
            assert view_rows, f"the view {name} is empty: nothing compared"
            assert columns == view_columns == documented().get(name), name
            assert sorted(rows, key=repr) == sorted(view_rows, key=repr), (
                f"{name}: the model's rows differ from the view's"
            )
        truth = {r["id"] for r in loaded.account.truth("responses")}
        assert {row[0] for row in query(f"SELECT response_id FROM {schema}.feedback")[1]} == truth
        for survey in ("nps", "csat", "ces"):
            answers = [r for r in loaded.company.truth(f"{survey}_responses") if r["score"] is not None]
            assert query(f"SELECT SUM(responses) FROM {schema}.woku_{survey}_monthly")[1] == [(len(answers),)]
    finally:
        close()
