"""Bad input on the sync side ends in ONE `error:` line with its documented exit code: records the API
should never send (no id, JSON nested thousands deep), broken `.dlt/` files, unsafe names, an
unsupported destination, the example secrets copied unchanged, and a malformed account list.

Each CLI runs as a user runs it, against a hostile API (`sandbox.hostile`) on 127.0.0.1 that counts the
requests it answers."""

import json
import re
import shutil
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List

import pytest

from sandbox.hostile import Answer, HostileRequest, HostileServer
from tests.conftest import ROOT, run_cli
from tests.support.warehouse import read_duckdb

SECRET = "s3cret-value-never-printed"
WOOTRIC, WOKU = "wootric_pipeline.py", "woku_pipeline.py"
CREATED = "2024-03-05 14:07:09 +0000"


def nested(depth: int) -> str:
    """A marker the fake API sends as `[[[...1...]]]`, `depth` lists deep (json.dumps cannot write that)."""
    return f"@nested:{depth}@"


def _with_nesting(payload: str) -> str:
    return re.sub(r'"@nested:(\d+)@"', lambda m: "[" * int(m[1]) + "1" + "]" * int(m[1]), payload)


class FakeApi:
    """GET answers by path (Wootric: a JSON list, Woku: a page envelope); every other path is empty.
    A `sandbox.hostile` server: `requests` counts what it answered."""

    def __init__(self, woku: bool, records: Dict[str, List[Any]]) -> None:
        self.woku = woku

        def answer(request: HostileRequest) -> Answer:
            # Wootric pages by cursor: the record comes once, on the first window
            first = woku or not any(key.endswith("[gte]") for key in request.query)
            data = records.get(request.path, []) if first else []
            body = {"data": data, "total": len(data), "page": 1, "limit": 100} if woku else data
            return Answer(200, {"Content-Type": "application/json"}, _with_nesting(json.dumps(body)).encode())

        self.server = HostileServer({"GET /": answer}).start()
        self.url = self.server.url

    @property
    def requests(self) -> int:
        return len(self.server.requests)

    def env(self) -> Dict[str, str]:
        """Credentials that need no token request; the secret must never be printed."""
        vendor, key = ("WOKU", "API_KEY") if self.woku else ("WOOTRIC", "ACCESS_TOKEN")
        return {f"SOURCES__{vendor}__BASE_URL": self.url, f"SOURCES__{vendor}__CREDENTIALS__{key}": SECRET}

    def stop(self) -> None:
        self.server.stop()


@pytest.fixture
def fake_api() -> Iterator[Callable[..., FakeApi]]:
    started: List[FakeApi] = []

    def start(woku: bool = False, records: Dict[str, List[Any]] | None = None) -> FakeApi:
        api = FakeApi(woku, records or {})
        started.append(api)
        return api

    yield start
    for api in started:
        api.stop()


def one_error(done: Any, code: int, *expected: str) -> str:
    """Exactly one `error:` line holding every `expected` text, the exit code, no traceback, no secret."""
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, done.stderr
    for text in expected:
        assert text in errors[0], errors[0]
    assert SECRET not in done.stderr + done.stdout
    return errors[0]


def wootric_response(**fields: Any) -> Dict[str, Any]:
    return {"id": 123, "end_user_id": 77, "created_at": CREATED, "updated_at": CREATED, "score": 9, **fields}


def woku_response(**fields: Any) -> Dict[str, Any]:
    return {"_id": "a" * 24, "createdAt": "2024-03-05T14:07:09.123Z", "score": 9, **fields}


# 1. a Woku record without `_id`: dlt failed the load in a traceback and kept the package for every later run
def test_a_woku_record_without_its_id_is_named_in_one_line(fake_api, workdir: Path) -> None:
    api = fake_api(woku=True, records={"/v1/nps": [woku_response(), woku_response(_id=None, npsToolId="t" * 24)]})
    done = run_cli(["--resources", "nps_responses"], workdir, api.env(), script=WOKU)
    one_error(done, 1, "nps_responses", "position 2", "has no _id", "npsToolId " + "t" * 24, "--resources")


# 2. JSON nested 50,000 deep: a RecursionError traceback from the JSON decoder (Python 3.13's decodes 5,000)
@pytest.mark.parametrize(
    "script, path, record, resource",
    [
        (WOOTRIC, "/v1/responses", wootric_response(tags=nested(50000)), "responses"),
        (WOKU, "/v1/nps", woku_response(extra=nested(50000)), "nps_responses"),
    ],
)
def test_json_nested_thousands_deep_is_one_line(fake_api, workdir: Path, script, path, record, resource) -> None:
    api = fake_api(woku=script == WOKU, records={path: [record]})
    done = run_cli(["--resources", resource], workdir, api.env(), script=script)
    one_error(done, 1, f"GET {path}", "nests JSON too deeply")


def test_a_woku_record_nested_deeper_than_a_table_name_can_follow_is_one_line(fake_api, workdir: Path) -> None:
    # decodable, but dlt would make one nested table per level and fail on a file name too long
    api = fake_api(woku=True, records={"/v1/nps": [woku_response(extra=nested(40))]})
    done = run_cli(["--resources", "nps_responses"], workdir, api.env(), script=WOKU)
    one_error(done, 1, "nps_responses", "position 1", "more than 16 levels deep")


# 3. Wootric ids: a numeric string is the integer it spells; a record without an id is named
def test_a_wootric_id_sent_as_a_numeric_string_loads_as_that_integer(fake_api, workdir: Path) -> None:
    api = fake_api(records={"/v1/responses": [wootric_response(id="123", end_user_id="77")]})
    done = run_cli(["--resources", "responses"], workdir, api.env())
    assert done.returncode == 0, done.stderr
    rows = read_duckdb(workdir / "feedback.duckdb", "wootric", "responses")
    assert [(r["id"], r["end_user_id"], r["other_fields"]) for r in rows] == [(123, 77, None)]


def test_a_wootric_record_without_an_id_is_named_in_one_line(fake_api, workdir: Path) -> None:
    record = wootric_response()
    del record["id"]
    api = fake_api(records={"/v1/responses": [record]})
    done = run_cli(["--resources", "responses"], workdir, api.env())
    one_error(done, 1, "responses: the record at position 1", "end_user_id 77", "has no id")


def test_a_wootric_id_that_is_text_is_refused_as_not_an_integer(fake_api, workdir: Path) -> None:
    api = fake_api(records={"/v1/responses": [wootric_response(id="R-123")]})
    done = run_cli(["--resources", "responses"], workdir, api.env())
    one_error(done, 1, "responses: record id 'R-123' is not an integer")


# 4. a malformed `.dlt/` file: file and line, never a value
@pytest.mark.parametrize(
    "name, text, line",
    [
        ("secrets.toml", f'[sources.wootric.credentials]\nclient_id = "abc"\nclient_secret = "{SECRET}\n', 3),
        ("config.toml", f"[sources.wootric]\nper_page = 50\nstart_date = {SECRET}\n", 3),
    ],
)
def test_a_malformed_dlt_file_is_named_with_its_line(fake_api, workdir: Path, name: str, text: str, line: int) -> None:
    api = fake_api()
    (workdir / ".dlt").mkdir()
    (workdir / ".dlt" / name).write_text(text)
    done = run_cli([], workdir, {"SOURCES__WOOTRIC__BASE_URL": api.url})
    one_error(done, 2, f".dlt/{name}: line {line}, column", "not valid TOML")
    assert api.requests == 0


# 5. names that are folders elsewhere (`../../x`) or schemas dlt renames (`a b`)
@pytest.mark.parametrize(
    "option, value",
    [("--pipeline-name", "../../x"), ("--pipeline-name", "a b"), ("--dataset-name", "a b"), ("--dataset-name", "a.b")],
)
@pytest.mark.parametrize("script", [WOOTRIC, WOKU])
def test_a_name_that_is_not_plain_is_refused(fake_api, workdir: Path, script: str, option: str, value: str) -> None:
    api = fake_api(woku=script == WOKU)
    done = run_cli([f"{option}={value}"], workdir, api.env(), script=script)
    one_error(done, 2, f"{option}: {value!r} is not a plain name", "letters, digits, _ and -")
    assert api.requests == 0
    assert not (workdir / "a b").exists() and not (workdir / "dlt-data" / "pipelines").exists()


# 6. `--destination ''` reused the state's destination; a name dlt does not know failed after the extract
@pytest.mark.parametrize("value, cause", [("", "no destination given"), ("snowflake2", "unknown destination")])
def test_an_unknown_destination_is_refused_before_any_request(fake_api, workdir: Path, value: str, cause: str) -> None:
    api = fake_api()
    done = run_cli([f"--destination={value}"], workdir, api.env())
    one_error(done, 2, "--destination:", cause, "duckdb, postgres, bigquery, snowflake, filesystem")
    assert api.requests == 0


# 7. the example secrets copied unchanged: placeholders were sent to the API for seconds of retries
def test_the_example_secrets_copied_unchanged_are_refused_before_any_request(fake_api, workdir: Path) -> None:
    api = fake_api()
    (workdir / ".dlt").mkdir()
    shutil.copy(ROOT / ".dlt" / "secrets.toml.example", workdir / ".dlt" / "secrets.toml")
    done = run_cli([], workdir, {"SOURCES__WOOTRIC__BASE_URL": api.url})
    line = one_error(done, 2, "sources.wootric.credentials.client_id", "placeholder", "secrets.toml.example")
    assert "your-client-id" not in line
    assert api.requests == 0


def test_the_examples_woku_key_uncommented_is_refused_before_any_request(fake_api, workdir: Path) -> None:
    api = fake_api(woku=True)
    example = (ROOT / ".dlt" / "secrets.toml.example").read_text()
    (workdir / ".dlt").mkdir()
    (workdir / ".dlt" / "secrets.toml").write_text(
        example.replace("# [sources.woku.credentials]\n# api_key", "[sources.woku.credentials]\napi_key")
    )
    done = run_cli([], workdir, {"SOURCES__WOKU__BASE_URL": api.url}, script=WOKU)
    one_error(done, 2, "sources.woku.credentials.api_key", "placeholder")
    assert api.requests == 0


def test_a_listed_accounts_placeholder_is_named_with_its_own_section(fake_api, workdir: Path) -> None:
    api = fake_api()
    env = {
        "SOURCES__WOOTRIC__BASE_URL": api.url,
        "SOURCES__WOOTRIC__ACCOUNTS": "acme",
        "SOURCES__WOOTRIC__ACME__CREDENTIALS__CLIENT_ID": "<client id>",
        "SOURCES__WOOTRIC__ACME__CREDENTIALS__CLIENT_SECRET": SECRET,
    }
    one_error(run_cli([], workdir, env), 2, "sources.wootric.acme.credentials.client_id", "placeholder")
    assert api.requests == 0


# 8. account lists: the key named is the list's, the section named is the account's own
@pytest.mark.parametrize("script, vendor", [(WOOTRIC, "wootric"), (WOKU, "woku")])
def test_a_bad_account_name_names_the_accounts_key(fake_api, workdir: Path, script: str, vendor: str) -> None:
    api = fake_api(woku=vendor == "woku")
    (workdir / ".dlt").mkdir()
    (workdir / ".dlt" / "config.toml").write_text(f'[sources.{vendor}]\naccounts = ["acme; drop"]\n')
    done = run_cli([], workdir, api.env(), script=script)
    one_error(done, 2, f"sources.{vendor}.accounts: 'acme; drop' is not an account name")
    assert api.requests == 0


@pytest.mark.parametrize("script, vendor", [(WOOTRIC, "wootric"), (WOKU, "woku")])
@pytest.mark.parametrize("listed", ["acme", '["acme"]'])
def test_missing_account_credentials_name_the_accounts_own_section(
    fake_api, workdir: Path, script: str, vendor: str, listed: str
) -> None:
    # the TOML form of the list in an environment variable was refused as an account named '["acme"]'
    api = fake_api(woku=vendor == "woku")
    done = run_cli([], workdir, {**api.env(), f"SOURCES__{vendor.upper()}__ACCOUNTS": listed}, script=script)
    line = one_error(done, 2, "no credentials for 'acme'", f"[sources.{vendor}.acme.credentials]")
    assert "{" not in line and f"SOURCES__{vendor.upper()}__ACME__CREDENTIALS__" in line
    assert api.requests == 0
