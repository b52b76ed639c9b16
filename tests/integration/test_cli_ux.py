"""The ``quarry`` CLI saying what to do: typos, globs, existing names, Kendra's filter syntax.

Fresh ``python -m api.cli`` processes against the test session's real Elasticsearch (its
index prefix), as an administrator would run them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

from search.runtime import Runtime
from search.settings import Settings
from tests.stack import ROOT, process_env

pytest_plugins = ["tests.integration.test_api_support"]  # the corpus fixture


def run(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        cwd=ROOT,
        env=process_env(settings, COLUMNS="200", NO_COLOR="1", **env),
        text=True,
        capture_output=True,
        timeout=300,
        check=False,
    )


def test_spec_typos_and_globs_are_explained(settings: Settings, tmp_path: Path) -> None:
    spec = tmp_path / "typos.yaml"
    spec.write_text(
        "name: typos\ntype: filesystem\nschedul: '0 * * * *'\nconfig:\n"
        f"  root: {tmp_path}\n  inclusion_paterns: ['x']\n  exclusion_patterns: ['*.tmp']\n"
    )
    done = run(settings, "datasource", "create", "-f", str(spec))
    assert done.returncode == 2
    assert "typos.yaml:3: schedul: unknown field; did you mean 'schedule'?" in done.stderr
    assert "config.inclusion_paterns: unknown field; did you mean 'inclusion_patterns'?" in (
        done.stderr
    )
    assert "patterns are regular expressions" in done.stderr and "'\\.tmp$'" in done.stderr


def test_unknown_and_existing_names_say_what_to_do(settings: Settings, tmp_path: Path) -> None:
    name = f"mkt-alfresco-{uuid.uuid4().hex[:6]}"
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"name: {name}\ntype: filesystem\nconfig: {{root: {tmp_path}}}\n")
    assert run(settings, "datasource", "create", "-f", str(spec)).returncode == 0
    try:
        again = run(settings, "datasource", "create", "-f", str(spec))
        assert again.returncode == 4
        assert f"quarry datasource update {name} -f FILE" in again.stderr
        typo = name.replace("alfresco", "alfrsco")
        for command in (("datasource", "show", typo), ("sync", "history", typo)):
            missing = run(settings, *command)
            assert missing.returncode == 3
            assert f"Did you mean {name!r}?" in missing.stderr
    finally:
        run(settings, "datasource", "delete", name, "--yes")


def test_filter_json_takes_kendras_syntax_too(
    settings: Settings, runtime: Runtime, api_corpus: list[str]
) -> None:
    ours = '{"equals_to": {"key": "_category", "value": "wiki"}}'
    kendras = '{"EqualsTo": {"Key": "_category", "Value": {"StringValue": "wiki"}}}'
    found = []
    for form in (ours, kendras):
        done = run(
            settings,
            "query",
            "kubernetes roadmap",
            "--user",
            "zoe",
            "--groups",
            "GROUP_engineering,GROUP_product",
            "--filter-json",
            form,
            "--json",
        )
        assert done.returncode == 0, done.stderr
        found.append([r["id"] for r in json.loads(done.stdout)["results"]])
    assert found[0] == found[1]
    assert set(found[0]) == {"corpus:kubernetes", "corpus:roadmap"}

    for wrong in ('{"Equals": {"Key": "_category"}}', '{"equals": {"key": "_category"}}'):
        refused = run(settings, "query", "x", "--filter-json", wrong)
        assert refused.returncode == 2
        assert "EqualsTo" in refused.stderr and "equals_to" in refused.stderr  # the operators
