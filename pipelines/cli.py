"""What every pipeline script shares: common options, one-line errors, the load summary."""

import argparse
import dataclasses
import logging
import os
import sys
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from dlt.common.configuration.exceptions import (
    ConfigFieldMissingException,
    ConfigurationValueError,
    ConfigValueCannotBeCoercedException,
)
from dlt.common.destination.exceptions import DestinationException, UnknownDestinationModule
from dlt.common.exceptions import MissingDependencyException

from sources.http_kit import (
    ApiUnavailableError,
    AuthError,
    ConfigError,
    SourceError,
    install_log_redaction,
    one_line,
)


@dataclasses.dataclass
class SyncResult:
    """What one sync did: the dlt pipeline, rows loaded per table (all accounts), the views made."""

    pipeline: Any
    rows: Dict[str, int] = dataclasses.field(default_factory=dict)
    views: List[str] = dataclasses.field(default_factory=list)


PROGRESS_CHOICES = ("log", "tqdm", "enlighten", "alive_progress")
#: the documented exit codes (docs/operations.md); 0 is success and 130 an interrupt
EXIT_FAILED = 1
EXIT_CONFIG = 2
EXIT_AUTH = 3
EXIT_API_DOWN = 4
EXIT_DESTINATION = 5
EXIT_INTERRUPTED = 130


def exit_code(err: SourceError) -> int:
    """The exit status for an expected failure; a composite failure names its own."""
    if isinstance(err, FailureWithStatus):
        return err.status
    for kind, code in ((ConfigError, EXIT_CONFIG), (AuthError, EXIT_AUTH), (ApiUnavailableError, EXIT_API_DOWN)):
        if isinstance(err, kind):
            return code
    return EXIT_FAILED


class FailureWithStatus(SourceError):
    """Several failures in one (accounts, tasks): the status is chosen by whoever collected them."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def add_common_options(parser: argparse.ArgumentParser, default_name: str) -> None:
    parser.add_argument("--destination", default="duckdb", help="duckdb (default), postgres or bigquery")
    parser.add_argument(
        "--dataset-name", default=default_name, help=f"dataset/schema to load into (default {default_name})"
    )
    parser.add_argument("--pipeline-name", default=default_name, help=f"dlt pipeline name (default {default_name})")
    parser.add_argument(
        "--resources",
        help="comma-separated resources, or `all`; default: all but the per-day nps_summary and email_stats",
    )
    parser.add_argument("--start-date", help="ISO date: load nothing older (first run / full refresh)")
    parser.add_argument(
        "--full-refresh", action="store_true", help="drop this source's tables and state, then load everything"
    )
    parser.add_argument(
        "--progress",
        nargs="?",
        const="log",
        choices=PROGRESS_CHOICES,
        help="show dlt's progress (default collector: log)",
    )
    parser.add_argument("--demo", action="store_true", help="run against a local sandbox with generated data (offline)")


def configure_logging() -> None:
    """Warnings (retries, rate-limit waits, unreachable records) to stderr, one line each."""
    os.environ.setdefault("RUNTIME__LOG_FORMAT", "{levelname} {name}: {message}")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    install_log_redaction()


def explain(exc: BaseException) -> Optional[Tuple[str, int]]:
    """A one-line message and exit status for an expected failure anywhere in the cause chain."""
    for err in _chain(exc):
        if isinstance(err, SourceError):
            return str(err), exit_code(err)
        if isinstance(err, ConfigFieldMissingException):
            return _missing_config(err), EXIT_CONFIG
        if isinstance(err, ConfigValueCannotBeCoercedException):
            return (
                f"configuration value for {err.field_name!r} is not a valid {getattr(err.hint, '__name__', err.hint)}",
                EXIT_CONFIG,
            )
        if isinstance(err, MissingDependencyException):
            return f"missing dependency: {_first_line(err)}", EXIT_CONFIG
        if isinstance(err, UnknownDestinationModule):
            return f"unknown destination {err.ref!r}", EXIT_CONFIG
        if isinstance(err, ConfigurationValueError):
            return f"invalid configuration: {_first_line(err)}", EXIT_CONFIG
    for err in _chain(exc):
        if isinstance(err, DestinationException) or type(err).__module__.startswith(("psycopg2", "duckdb")):
            return f"destination failed: {_first_line(err)}", EXIT_DESTINATION
    return None


def run_cli(body: Callable[[], int]) -> int:
    """Run a command; expected failures end in one line on stderr and a non-zero status."""
    configure_logging()
    try:
        return body()
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - re-raised below unless it is an expected failure
        explained = explain(exc)
        if explained is None:
            raise
        message, code = explained
        print(f"error: {one_line(message)}", file=sys.stderr)
        return code


def row_counts(pipeline: Any) -> Dict[str, int]:
    """Rows per table in the last load, without dlt's own bookkeeping tables."""
    trace = pipeline.last_trace
    info = trace.last_normalize_info if trace else None
    counts = dict(info.row_counts) if info else {}
    return {table: n for table, n in sorted(counts.items()) if not table.startswith("_dlt")}


def print_counts(counts: Dict[str, int], where: str) -> None:
    if not counts:
        print(f"nothing new to load into {where}")
        return
    width = max(len(t) for t in counts)
    print(f"loaded into {where}:")
    for table, n in counts.items():
        print(f"  {table:<{width}}  {n:>9,} rows")


def _chain(exc: BaseException) -> Iterable[BaseException]:
    seen = set()
    todo = [exc]
    while todo:
        err = todo.pop(0)
        if err is None or id(err) in seen:
            continue
        seen.add(id(err))
        yield err
        todo.extend([getattr(err, "exception", None), err.__cause__, err.__context__])


def _missing_config(err: ConfigFieldMissingException) -> str:
    """Name the environment variables to set; for a union of credentials, each alternative."""
    alternatives = [" + ".join(keys) for keys in _missing_keys(err.traces) if keys]
    where = ".dlt/secrets.toml, .dlt/config.toml or environment variables"
    return f"missing configuration: set {' or '.join(alternatives)} (in {where})"


def _missing_keys(traces: Dict[str, Any]) -> List[List[str]]:
    """One list of missing keys per alternative; a union of configs multiplies the alternatives."""
    alternatives: List[List[str]] = [[]]
    for field, found in traces.items():
        if found and hasattr(found[0], "traces"):  # union (or nested) config: one option per member
            options = [keys for member in found for keys in _missing_keys(member.traces)]
            alternatives = [a + o for a in alternatives for o in options] or alternatives
            continue
        env_keys = [t.key for t in found if t.provider == "Environment Variables"] or [field]
        # skip the pipeline-name-prefixed variants; name the usual `SOURCES__<SOURCE>__...` key
        env_keys = [k for k in env_keys if k.startswith(("SOURCES__", "DESTINATION__"))] or env_keys
        depth = max(k.count("__") for k in env_keys)
        key = min((k for k in env_keys if k.count("__") >= depth - 1), key=len)
        alternatives = [a + [key] for a in alternatives]
    return alternatives


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0][:300] if text else type(err).__name__
