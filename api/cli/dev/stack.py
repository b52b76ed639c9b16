"""``quarry up | down | status``: the local stack, through ``deploy/stack.sh`` (one implementation)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from api.cli.common import (
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_UNAVAILABLE,
    JSON_HELP,
    backend_address,
    emit_json,
    fail,
    out,
)

ROOT = Path(__file__).resolve().parents[3]
STACK = ROOT / "deploy" / "stack.sh"


def run_stack(action: str, *, capture: bool = False) -> subprocess.CompletedProcess[str]:
    """Run ``deploy/stack.sh ACTION`` from the checkout this CLI was installed from."""
    if not STACK.is_file():
        fail(
            f"{STACK} is missing: `quarry {action}` works from a source checkout only",
            hint="In production, start Elasticsearch, Redis, workers and the API with your own tooling.",
        )
    return subprocess.run(
        ["bash", str(STACK), action],
        cwd=ROOT,
        check=False,
        text=True,
        capture_output=capture,
    )


def up() -> None:
    """Start Elasticsearch, Redis, a Celery worker, the scheduler, the API and the Alfresco simulator.

    Idempotent: what already runs is left alone. Then try `quarry demo`.

    Example: quarry up && quarry demo
    """
    if run_stack("up").returncode != 0:
        raise typer.Exit(EXIT_FAILURE)
    out.print("The stack is up. Next: [cyan]quarry demo[/] (or [cyan]quarry status[/]).")


def down() -> None:
    """Stop everything `quarry up` started (data stays under var/ and the state directory).

    Example: quarry down
    """
    if run_stack("down").returncode != 0:
        raise typer.Exit(EXIT_FAILURE)


def parse_status(text: str) -> list[dict[str, str | bool]]:
    """``name: running at URL`` lines into records."""
    parts: list[dict[str, str | bool]] = []
    for line in text.splitlines():
        name, sep, rest = line.partition(":")
        if not sep or not name.strip() or " " in name.strip():
            continue
        state, _, detail = rest.strip().partition(" ")
        parts.append({"component": name.strip(), "running": state == "running", "detail": detail})
    return parts


def _configured(backend: str) -> dict[str, str | bool]:
    """Whether the address the CLI itself uses answers: it may not be the local stack's."""
    import socket
    from urllib.parse import urlsplit

    url, source = backend_address(backend)
    parts = urlsplit(url)
    default_port = {"elasticsearch": 9200, "redis": 6379}[backend]
    try:
        with socket.create_connection((parts.hostname or "", parts.port or default_port), 2):
            answered = True
    except (OSError, ValueError):
        answered = False
    return {
        "component": f"quarry → {backend}",
        "running": answered,
        "detail": f"at {url} ({source})",
    }


def status(as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False) -> None:
    """Show which parts of the local stack run, with their addresses, and whether the
    Elasticsearch and Redis this CLI is configured for answer. Exit 0 when all do, 5 if not.

    Example: quarry status --json | jq '.[] | select(.running | not) | .component'
    """
    result = run_stack("status", capture=True)
    parts = parse_status(result.stdout)
    if not parts:
        if result.stderr:
            out.print(escape(result.stderr.rstrip()))
        fail("could not read the stack's status", EXIT_FAILURE)
    parts += [_configured(backend) for backend in ("elasticsearch", "redis")]
    if as_json:
        emit_json(parts)
    else:
        table = Table("component", "state", "detail")
        for part in parts:
            words = ("reachable", "unreachable") if "→" in str(part["component"]) else None
            up, down = words or ("running", "stopped")
            state = f"[green]{up}[/]" if part["running"] else f"[red]{down}[/]"
            table.add_row(escape(str(part["component"])), state, escape(str(part["detail"])))
        out.print(table)
    raise typer.Exit(EXIT_OK if all(p["running"] for p in parts) else EXIT_UNAVAILABLE)
