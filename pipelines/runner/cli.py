"""How every command ends: expected failures in one redacted line with a documented exit code."""

import logging
import os
import re
import sys
import threading
import traceback
from typing import Any, Callable, Dict, List, Optional, Tuple

import tomlkit
from dlt.common.configuration.exceptions import (
    ConfigFieldMissingException,
    ConfigurationValueError,
    ConfigValueCannotBeCoercedException,
)
from dlt.common.configuration.providers.toml import TomlProviderReadException
from dlt.common.destination.exceptions import DestinationException, UnknownDestinationModule
from dlt.common.exceptions import MissingDependencyException
from dlt.load.exceptions import LoadClientJobException
from tomlkit.exceptions import ParseError as TomlParseError

from sources.http_kit import (
    ApiUnavailableError,
    AuthError,
    ConfigError,
    SourceError,
    install_log_redaction,
    one_line,
    redact,
)
from sources.http_kit.errors import causes

#: the documented exit codes (docs/operations.md); 0 is success and 130 an interrupt
EXIT_FAILED = 1
EXIT_CONFIG = 2
EXIT_AUTH = 3
EXIT_API_DOWN = 4
EXIT_DESTINATION = 5
#: write-back: some rows were not written (each row's outcome is in the results table)
EXIT_INCOMPLETE = 6
#: another run of the same pipeline holds its lock (pipelines/runner/lock.py); nothing was done
EXIT_IN_PROGRESS = 7
#: `status`: a table's last successful load is older than `--max-age`, or the dataset was never loaded
EXIT_STALE = 8
#: `verify`: a month of the warehouse differs from the API's own numbers (after `--repair`, still)
EXIT_MISMATCH = 9
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
    """A failure whose exit status its raiser chooses (several accounts' failures, a run in progress)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def configure_logging() -> None:
    """Warnings (retries, rate-limit waits, unreachable records) to stderr, one line each."""
    os.environ.setdefault("RUNTIME__LOG_FORMAT", "{levelname} {name}: {message}")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    install_log_redaction()


def explain(exc: BaseException) -> Optional[Tuple[str, int]]:
    """A one-line message and exit status for an expected failure anywhere in the cause chain."""
    for err in causes(exc):
        if isinstance(err, SourceError):
            return str(err), exit_code(err)
        if isinstance(err, TomlProviderReadException):
            return _toml_error(err), EXIT_CONFIG
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
    for err in causes(exc):
        locked = _DUCKDB_LOCK.search(str(err))
        if locked:
            # a sync (or another command) writes the file: as for two syncs, nothing was done
            return (
                f"the DuckDB file {locked.group(1)} is in use by another process ({locked.group(2)});"
                " run again when it has ended",
                EXIT_IN_PROGRESS,
            )
        if isinstance(err, LoadClientJobException) and getattr(err, "client_exception", None) is not None:
            # its own message holds the job's whole traceback; the cause is the database's first line
            table = err.job_id.split(".", 1)[0]
            return f"destination failed: loading {table}: {_first_line(err.client_exception)}", EXIT_DESTINATION
        if isinstance(err, DestinationException) or type(err).__module__.startswith(("psycopg2", "duckdb")):
            return f"destination failed: {_first_line(err)}", EXIT_DESTINATION
    return None


def run_cli(body: Callable[[], int]) -> int:
    """Run a command; expected failures end in one line on stderr and a non-zero status."""
    configure_logging()
    try:
        return body()
    except (KeyboardInterrupt, Exception) as exc:  # noqa: BLE001 - a bug still ends with its traceback below
        if any(isinstance(err, KeyboardInterrupt) for err in causes(exc)):  # dlt wraps it in a step failure
            print("error: interrupted", file=sys.stderr)
            if any(t.name.startswith("account-") and t.is_alive() for t in threading.enumerate()):
                # accounts still reading in daemon threads (parallel.py): end now, as a kill would, rather
                # than let the interpreter shut down under them
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(EXIT_INTERRUPTED)
            return EXIT_INTERRUPTED
        explained = explain(exc)
        if explained is None:
            # a bug: its traceback, with every secret masked (Python's own hook would print them)
            print(redact(traceback.format_exc()), file=sys.stderr, end="")
            return EXIT_FAILED
        message, code = explained
        print(f"error: {one_line(message)}", file=sys.stderr)
        return code


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
        # a destination's own section (`DESTINATION__BIGQUERY__...`), not dlt's generic `DESTINATION__...`
        floor = depth if all(k.startswith("DESTINATION__") for k in env_keys) else depth - 1
        key = min((k for k in env_keys if k.count("__") >= floor), key=len)
        alternatives = [a + [key] for a in alternatives]
    return alternatives


def _toml_error(err: TomlProviderReadException) -> str:
    """Which file and line of `.dlt/` is not TOML; never the text around it, which may be a secret
    (tomlkit's own message can quote the character it stumbled on)."""
    for path in err.full_paths:
        if not os.path.isfile(path):
            continue
        try:
            with open(path, encoding="utf-8") as f:
                tomlkit.parse(f.read())
        except TomlParseError as parse_error:
            kind = _TOML_KINDS.get(type(parse_error).__name__) or _words(type(parse_error).__name__)
            return (
                f"{os.path.normpath(path)}: line {parse_error.line}, column {parse_error.col} is not valid TOML"
                f" ({kind}); fix the file (its values are not shown)"
            )
        except (UnicodeDecodeError, OSError) as read_error:
            return f"{os.path.normpath(path)}: cannot be read as UTF-8 text ({type(read_error).__name__})"
    return f"{err.file_name}: not valid TOML; fix the file (its values are not shown)"


_TOML_KINDS = {"InvalidControlChar": "a line break or control character inside a string: a quote left open?"}


def _words(name: str) -> str:
    """`UnexpectedCharError` -> `unexpected char`."""
    return " ".join(re.findall(r"[A-Z][a-z]*", name.removesuffix("Error"))).lower()


#: DuckDB's refusal to open a file another process holds, and its reason (which process holds it)
_DUCKDB_LOCK = re.compile(r'Could not set lock on file "([^"]+)": (Conflicting lock is held in .+?)(?:\. See also|$)')
#: characters kept of an error's first line, from its start and from its end (where a wrapped cause's
#: reason usually is: dlt's connection errors end with "The actual reason given is: ...")
_KEPT = 250


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    if not text:
        return type(err).__name__
    line = text[0]
    return line if len(line) <= 2 * _KEPT else f"{line[:_KEPT]} … {line[-_KEPT:]}"
