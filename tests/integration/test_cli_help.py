"""``quarry --help`` as a newcomer reads it: words for value types, examples beyond one connector.

Subprocesses of ``python -m api.cli``; help needs no running service.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.stack import ROOT


def helptext(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", *args, "--help"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "120", "NO_COLOR": "1"},
        text=True,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize(
    "command",
    [("query",), ("explain",), ("datasource", "create"), ("sync", "history"), ("token",)],
)
def test_help_shows_value_words_not_python_types(command: tuple[str, ...]) -> None:
    shown = helptext(*command)
    for raw in ("<str>", "<bool>", "<int", "{text}", "{name}", "{doc_id}"):
        assert raw not in shown, (command, raw)


def test_query_help_reads_like_a_command_line() -> None:
    shown = helptext("query")
    assert "quarry query [OPTIONS] TEXT" in shown
    assert "--user" in shown and "TEXT" in shown


def test_create_help_has_an_alfresco_example() -> None:
    shown = helptext("datasource", "create")
    assert "type: filesystem" in shown and "type: alfresco" in shown
    assert "secret_ref: file:" in shown


def test_demo_help_lists_the_demo_users() -> None:
    shown = helptext("demo")
    for user in ("alice", "bob", "carol", "dave", "erin", "frank", "grace"):
        assert user in shown
    assert "alice-pw" in shown
