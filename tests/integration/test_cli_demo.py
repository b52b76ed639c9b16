"""``quarry demo`` (what ``make up`` runs) against a real Alfresco simulator process and worker."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from search.settings import Settings
from tests.integration.test_cli import Cli
from tests.stack import ROOT, WorkerProcess, prefixed, running_worker
from worker.app import create_app

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def s(settings: Settings, es: Elasticsearch) -> Settings:
    return prefixed(settings, "demo")


@pytest.fixture(scope="module")
def worker(s: Settings, redis_client: object, log_dir: Path) -> Iterator[WorkerProcess]:
    with running_worker(create_app(s), s, "cli-demo", log_dir) as proc:
        yield proc


@pytest.fixture(scope="module")
def sim_port() -> Iterator[int]:
    """The simulator as `make up` runs it (seed 7), on a free port it prints first."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "devtools.alfresco_sim", "--port", "0", "--seed", "7"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url
        yield int(url.rsplit(":", 1)[1].split("/")[0])
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_demo_indexes_the_simulator_and_shows_two_users_apart(
    s: Settings, worker: WorkerProcess, sim_port: int, tmp_path: Path
) -> None:
    cli = Cli(s)
    secret = tmp_path / "demo" / "secret.json"
    args = ("demo", "--sim-port", str(sim_port), "--secret-file", str(secret), "--timeout", "400")
    first = cli(*args, timeout=600)
    assert first.returncode == 0, f"{first.stdout}\n{first.stderr}\n{worker.log_tail()}"
    out = first.stdout
    assert "Created data source demo-alfresco over sites engineering, marketing" in out
    assert "(full, demo): succeeded" in out
    # The engineering site's threat model is alice's alone; the embargoed press release dave's.
    assert "Only alice sees Nightingale threat model" in out
    assert "Only dave sees Aurora press release" in out
    assert 'quarry explain "demo-alfresco:' in out and "--user dave" in out
    assert "http://127.0.0.1:8000/" in out

    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert json.loads(secret.read_text()) == {"username": "admin", "password": "admin"}
    assert secret.read_text() not in out + first.stderr
    shown = cli.json("datasource", "show", "demo-alfresco")
    assert shown["config"]["secret_ref"] == f"file:{secret.resolve()}"
    assert shown["config"]["site_ids"] == ["engineering", "marketing"]

    again = cli(*args, timeout=600)  # `make up` twice: the data source is updated, not duplicated
    assert again.returncode == 0, again.stderr
    assert "Updated data source demo-alfresco" in again.stdout
    assert [d["name"] for d in cli.json("datasource", "list")] == ["demo-alfresco"]


def test_demo_without_a_simulator_says_so(s: Settings, tmp_path: Path) -> None:
    done = Cli(s)("demo", "--sim-port", "9", "--secret-file", str(tmp_path / "x.json"))
    assert done.returncode == 5
    assert "simulator" in done.stderr and "quarry up" in done.stderr
