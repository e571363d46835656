"""Each subcommand takes only its own options; `run` is the default; help names the vendor's own defaults."""

import argparse

import pytest

from pipelines.runner.main import build_parser, parse_args
from pipelines.vendors import WOKU, WOOTRIC


def test_run_is_implied_by_an_option_or_nothing() -> None:
    assert parse_args(WOOTRIC, []).command == "run"
    args = parse_args(WOOTRIC, ["--demo", "--destination", "postgres"])
    assert (args.command, args.demo, args.destination) == ("run", True, "postgres")


@pytest.mark.parametrize(
    "vendor, argv",
    [
        (WOOTRIC, ["run", "--manifest", "m.csv"]),
        (WOKU, ["--manifest", "m.csv"]),
        (WOKU, ["run", "--file", "t.csv"]),
        (WOKU, ["trackers", "--manifest", "m.csv"]),
        (WOKU, ["voicemails", "--file", "t.csv"]),
        (WOKU, ["trackers", "--full-refresh"]),
        (WOOTRIC, ["trackers"]),
        (WOOTRIC, ["report", "--resources", "responses"]),
    ],
)
def test_options_of_another_command_are_refused(vendor, argv, capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        parse_args(vendor, argv)
    assert stop.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_each_command_parses_its_own_options() -> None:
    tr = parse_args(WOKU, ["trackers", "--file", "t.csv", "--create-missing", "--dry-run"])
    assert (tr.command, tr.file, tr.create_missing, tr.dry_run) == ("trackers", "t.csv", True, True)
    vm = parse_args(WOKU, ["voicemails", "--manifest", "m.csv", "--v1"])
    assert (vm.command, vm.manifest, vm.v1, vm.language) == ("voicemails", "m.csv", True, "es")
    rep = parse_args(WOOTRIC, ["report", "--demo"])
    assert (rep.command, rep.demo, rep.dataset_name) == ("report", True, "wootric")


def test_help_names_the_vendors_program_and_its_default_exclusions() -> None:
    woku_run, wootric_run = (" ".join(run_help(vendor).split()) for vendor in (WOKU, WOOTRIC))
    assert woku_run.startswith("usage: woku-pipeline run") and "nps_summary" not in woku_run
    assert wootric_run.startswith("usage: wootric-pipeline run")
    assert "default: all but nps_summary and email_stats" in wootric_run
    assert build_parser(WOKU).format_help().startswith("usage: woku-pipeline")


def run_help(vendor) -> str:
    """`PROG run --help` as printed."""
    commands = next(a for a in build_parser(vendor)._actions if isinstance(a, argparse._SubParsersAction))
    return commands.choices["run"].format_help()
