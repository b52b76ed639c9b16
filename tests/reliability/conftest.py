"""The reliability suite runs on an Elasticsearch and a Redis of its own.

It restarts, freezes (SIGSTOP) and empties them, so it never touches the services the rest of
the test run (or anyone else) uses: Elasticsearch on ``QUARRY_REL_ES_PORT`` (9230) with its own
state directory (``QUARRY_REL_STATE_DIR``, /var/lib/quarry-rel) and a 512 MB heap, started with
``deploy/elasticsearch/es.sh``; Redis on ``QUARRY_REL_REDIS_PORT`` (6391), without persistence.
Figures (time to recover, drift) are appended to ``var/reliability.json`` for bench/recover.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from search.settings import Settings
from tests.stack import ROOT, wait_until

ES_PORT = int(os.environ.get("QUARRY_REL_ES_PORT", "9230"))
REDIS_PORT = int(os.environ.get("QUARRY_REL_REDIS_PORT", "6391"))
STATE_DIR = os.environ.get("QUARRY_REL_STATE_DIR", "/var/lib/quarry-rel")
REPORT = Path(os.environ.get("QUARRY_RELIABILITY_REPORT", ROOT / "var" / "reliability.json"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/reliability/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.reliability)


class OwnElasticsearch:
    """deploy/elasticsearch/es.sh on its own port and state directory."""

    def __init__(self, log_dir: Path) -> None:
        self.env = {
            **os.environ,
            "QUARRY_ES_PORT": str(ES_PORT),
            "QUARRY_STATE_DIR": STATE_DIR,
            "QUARRY_ES_HEAP": os.environ.get("QUARRY_REL_ES_HEAP", "512m"),
            "QUARRY_LOG_DIR": str(log_dir),
        }
        self.url = f"http://127.0.0.1:{ES_PORT}"

    def _es_sh(self, action: str) -> None:
        subprocess.run(
            ["bash", str(ROOT / "deploy/elasticsearch/es.sh"), action],
            env=self.env,
            check=True,
            timeout=600,
        )

    def start(self) -> None:
        self._es_sh("start")

    def stop(self) -> None:
        self._es_sh("stop")

    def pid(self) -> int:
        path = Path(STATE_DIR) / "elasticsearch" / f"elasticsearch-{ES_PORT}.pid"
        return int(path.read_text().strip())

    def freeze(self) -> None:
        os.kill(self.pid(), signal.SIGSTOP)

    def thaw(self) -> None:
        os.kill(self.pid(), signal.SIGCONT)


class OwnRedis:
    def __init__(self, log_dir: Path) -> None:
        self.port = REDIS_PORT
        self.log = log_dir / f"redis-{REDIS_PORT}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed")
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        client = redis.Redis(port=self.port)
        wait_until(lambda: _pings(client), 30, message=f"redis on {self.port}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()  # SIGKILL: nothing is saved, it comes back empty
            self.proc.wait(timeout=30)
        self.proc = None


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


@pytest.fixture(scope="session")
def own_es(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnElasticsearch]:
    node = OwnElasticsearch(tmp_path_factory.mktemp("es-rel-logs"))
    node.start()
    try:
        yield node
    finally:
        with contextlib.suppress(OSError, ValueError):
            node.thaw()
        node.stop()


@pytest.fixture(scope="session")
def own_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path_factory.mktemp("redis-rel"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def settings(own_es: OwnElasticsearch, own_redis: OwnRedis) -> Settings:
    """Overrides the session settings: everything here talks to the suite's own services."""
    cache = os.environ.get(
        "QUARRY_EMBEDDING_CACHE_PATH", str(ROOT / "var" / "cache" / "embeddings.sqlite")
    )
    return Settings(
        es_url=own_es.url,
        redis_url=f"redis://127.0.0.1:{own_redis.port}/0",
        index_prefix=f"qrel-{uuid.uuid4().hex[:8]}",
        embedding_cache_path=Path(cache),
    )


def record(experiment: str, **figures: Any) -> None:
    """Append one experiment's outcome to the report bench/recover.py prints."""
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    entry = {"experiment": experiment, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ"), **figures}
    with REPORT.open("a") as out:
        out.write(json.dumps(entry) + "\n")
