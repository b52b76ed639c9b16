"""What every ``quarry`` command shares: the services it talks to, output, and exit codes.

The CLI is a thin shell over the service container the API uses (``api.container``), built
lazily so that ``quarry --help`` or ``quarry down`` never touches
Elasticsearch. Every known error becomes one line on stderr and a stable exit code, in one
place (``exit_code_for``), so scripts can branch on the code instead of parsing messages.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from typing import Any, NoReturn

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console

from api.container import ServiceContainer

Services = ServiceContainer
"""The CLI's services are the REST app's container (without the request-only parts)."""

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_CONFLICT = 4
EXIT_UNAVAILABLE = 5

PIPE_WIDTH = 120
"""Width when writing to a pipe or file: rich's 80 would squeeze tables for no reader's gain."""


def _console(stderr: bool) -> Console:
    console = Console(stderr=stderr, highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = PIPE_WIDTH
    return console


out = _console(stderr=False)
"""Human output on stdout; rich only adds colour when stdout is a terminal (and no NO_COLOR)."""
err = _console(stderr=True)
"""Errors, hints and live progress on stderr, so stdout stays clean for ``--json`` and pipes."""

JSON_HELP = "Print JSON instead of tables (for scripts)."
STACK_HINT = "Is the stack up? Try `quarry status`, or `quarry up` to start it."
_SECRET_WORDS = ("password", "secret", "token", "api_key", "apikey", "credential")


class CliError(Exception):
    """A failure the CLI itself detects, with the exit code it deserves."""

    def __init__(
        self, message: str, exit_code: int = EXIT_FAILURE, hint: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.hint = hint


def services(ctx: typer.Context) -> Services:
    """The invocation's services, created by the root callback and shared by subcommands."""
    root = ctx.find_root()
    if not isinstance(root.obj, Services):
        root.obj = Services()
    return root.obj


def complete_data_source(ctx: typer.Context, incomplete: str) -> list[str]:
    """Shell completion of data source names; silent when the backend cannot be reached."""
    try:
        names = [ds.name for ds in services(ctx).datasources.list()]
    except Exception:  # completion must never print a traceback into the user's shell
        return []
    return sorted(n for n in names if n.startswith(incomplete))


# ----- output


def to_jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [to_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    return value


def emit_json(value: Any) -> None:
    """Plain JSON on stdout: never through rich, which would wrap lines or add colour codes."""
    sys.stdout.write(json.dumps(to_jsonable(value), indent=2, ensure_ascii=False, default=str))
    sys.stdout.write("\n")
    sys.stdout.flush()


def redact(config: Mapping[str, Any]) -> dict[str, Any]:
    """Hide values under secret-looking keys unless they are references (``env:``/``file:``).

    Specs should only hold references, but a pasted password must not be echoed to a terminal.
    """
    shown: dict[str, Any] = {}
    for key, value in config.items():
        secretish = any(word in key.lower() for word in _SECRET_WORDS)
        if isinstance(value, Mapping):
            shown[key] = redact(value)
        elif secretish and isinstance(value, str) and not value.startswith(("env:", "file:")):
            shown[key] = "***"
        else:
            shown[key] = value
    return shown


def fail(message: str, exit_code: int = EXIT_FAILURE, hint: str | None = None) -> NoReturn:
    raise CliError(message, exit_code, hint)


def confirm_or_abort(question: str, yes: bool) -> None:
    """Ask before destroying data; refuse (exit 2) when nobody can answer and --yes is absent."""
    if yes:
        return
    if not sys.stdin.isatty():
        fail(f"{question} Refusing without --yes, since stdin is not a terminal.", EXIT_USAGE)
    if not typer.confirm(question, default=False, err=True):
        err.print("Nothing was changed.")
        raise typer.Exit(EXIT_FAILURE)


# ----- errors to exit codes


def exit_code_for(exc: BaseException) -> tuple[int, str, str | None] | None:
    """(exit code, message, hint) for errors the CLI expects; None lets others propagate."""
    from acl.errors import AclError, InvalidTokenError, TokenConfigError
    from connectors.errors import UNKNOWN_CONNECTOR, ConnectorConfigError, ConnectorError
    from search.errors import SearchError

    if isinstance(exc, CliError):
        return exc.exit_code, exc.message, exc.hint
    if isinstance(exc, SearchError):
        code = _closest(exc)
        if code == EXIT_UNAVAILABLE:
            backend = _backend_named(exc.message)
            if backend is not None:
                return code, *unreachable(backend, exc.message)
        if code == EXIT_NOT_FOUND:
            return code, exc.message, _did_you_mean(exc.message)
        if code == EXIT_CONFLICT:
            return code, exc.message, _exists_hint(exc.message)
        return code, exc.message, STACK_HINT if code == EXIT_UNAVAILABLE else None
    if isinstance(exc, ConnectorConfigError):
        return EXIT_USAGE, exc.message, None
    if isinstance(exc, ConnectorError):
        return (EXIT_USAGE if exc.code == UNKNOWN_CONNECTOR else EXIT_FAILURE), exc.message, None
    if isinstance(exc, InvalidTokenError | TokenConfigError):
        return EXIT_USAGE, exc.reason, None
    if isinstance(exc, AclError):
        return EXIT_FAILURE, exc.reason, None
    if isinstance(exc, ValidationError):
        return EXIT_USAGE, describe_validation(exc), None
    return _backend_error(exc)


def _named_source(message: str, pattern: str) -> str | None:
    import re

    found = re.match(pattern, message)
    return found.group(1) if found else None


def _did_you_mean(message: str) -> str | None:
    """For an unknown data source name: the closest existing names, else how to list them."""
    import difflib

    name = _named_source(message, r"^no data source '([^']*)'")
    if name is None:
        return None
    try:
        names = [ds.name for ds in Services().datasources.list()]
    except Exception:  # a hint must never hide the error it explains
        return None
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    if close:
        return "Did you mean " + " or ".join(repr(c) for c in close) + "?"
    if names:
        return "Existing data sources: " + ", ".join(sorted(names)[:20])
    return "There are no data sources yet: `quarry datasource create -f FILE` makes one."


def _exists_hint(message: str) -> str | None:
    name = _named_source(message, r"^a data source named '([^']*)' already exists")
    if name is None:
        return None
    return f"To change it, run `quarry datasource update {name} -f FILE`."


def _closest(exc: BaseException) -> int:
    from search.errors import BackendUnavailable, BadRequest, Conflict, NotFound

    for cls, code in (
        (BadRequest, EXIT_USAGE),
        (NotFound, EXIT_NOT_FOUND),
        (Conflict, EXIT_CONFLICT),
        (BackendUnavailable, EXIT_UNAVAILABLE),
    ):
        if isinstance(exc, cls):
            return code
    return EXIT_FAILURE


def _backend_error(exc: BaseException) -> tuple[int, str, str | None] | None:
    from search import es_errors
    from sync_engine.backends import unreachable as backend_down

    hint = STACK_HINT
    failure = es_errors.classify(exc)
    if failure is not None and failure.kind == "unreachable":
        return EXIT_UNAVAILABLE, *unreachable("elasticsearch", str(exc))
    if failure is not None and failure.kind == "overloaded":
        return EXIT_UNAVAILABLE, f"Elasticsearch is unavailable ({failure.status})", hint
    if failure is not None:
        return EXIT_FAILURE, f"Elasticsearch rejected a request: {failure.reason}", None
    backend = backend_down(exc)
    if backend == "Redis":
        return EXIT_UNAVAILABLE, *unreachable("redis", str(exc))
    if backend is not None:
        return EXIT_UNAVAILABLE, f"{backend} is unreachable: {exc}", hint
    return None


_BACKEND_SETTING = {"elasticsearch": "QUARRY_ES_URL", "redis": "QUARRY_REDIS_URL"}
_BACKEND_TITLE = {"elasticsearch": "Elasticsearch", "redis": "Redis"}


def _backend_named(message: str) -> str | None:
    lowered = message.lower()
    if "elasticsearch" in lowered:
        return "elasticsearch"
    if "redis" in lowered or "task queue" in lowered or "queue the sync" in lowered:
        return "redis"
    return None


def backend_address(backend: str) -> tuple[str, str]:
    """(address without credentials, which setting chose it) for ``elasticsearch``/``redis``."""
    from urllib.parse import urlsplit, urlunsplit

    from search.settings import Settings

    setting = _BACKEND_SETTING[backend]
    try:
        configured = Settings()
        url = configured.es_url if backend == "elasticsearch" else configured.redis_url
    except ValidationError:
        url = os.environ.get(setting, "")
    parts = urlsplit(url)
    if parts.username or parts.password:  # never print credentials
        host = parts.hostname or ""
        url = urlunsplit(parts._replace(netloc=f"{host}:{parts.port}" if parts.port else host))
    if os.environ.get(setting):
        return url, f"set by {setting}"
    return url, f"the default, since {setting} is not set"


def _network_reason(text: str) -> str:
    """The operating system's words from a driver's nested error text (no exception chain)."""
    import re

    found: list[str] = re.findall(r"\[Errno -?\d+\] ([^)\]'\"]+)", text)
    if found:
        return found[-1].strip().rstrip(".").lower()
    for words in ("timed out", "timeout", "connection refused", "name or service not known"):
        if words in text.lower():
            return words
    return "no connection"


def unreachable(backend: str, detail: str) -> tuple[str, str]:
    """(message, hint) naming the address that failed and the setting that chose it."""
    url, source = backend_address(backend)
    title = _BACKEND_TITLE[backend]
    message = (
        f"{title} at {url} is unreachable ({_network_reason(detail)}); that address is {source}"
    )
    hint = (
        f"Point {_BACKEND_SETTING[backend]} at your {title}, or start the local stack with "
        "`quarry up` (`quarry status` shows the local stack only)."
    )
    return message, hint


def describe_validation(exc: ValidationError) -> str:
    """Field paths and messages, never the rejected values (they may be secrets)."""
    parts = []
    for error in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(p) for p in error["loc"]) or "(value)"
        parts.append(f"{where}: {error['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)


def report(exc: BaseException) -> int | None:
    """Print a known error to stderr and return its exit code; None for unexpected errors."""
    mapped = exit_code_for(exc)
    if mapped is None:
        return None
    code, message, hint = mapped
    err.print(f"[bold red]error:[/] {_escape(message)}", soft_wrap=True)
    if hint:
        err.print(f"[dim]{_escape(hint)}[/]", soft_wrap=True)
    return code


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
