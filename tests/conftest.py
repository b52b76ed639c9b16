"""Shared fixtures: real Elasticsearch, Redis and Celery workers, isolated per test session.

`make test` starts Elasticsearch and Redis (deploy/stack.sh services); each session uses its
own index prefix and Redis database and removes its indices afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from elasticsearch import Elasticsearch

from search.embed import DEFAULT_BACKEND, Embedder
from search.runtime import Runtime
from search.settings import Settings
from tests.stack import ROOT, WorkerProcess, ready_runtime, running_worker


@pytest.fixture(scope="session")
def settings() -> Settings:
    cache = os.environ.get(
        "QUARRY_EMBEDDING_CACHE_PATH", str(ROOT / "var" / "cache" / "embeddings.sqlite")
    )
    return Settings(
        es_url=os.environ.get("QUARRY_ES_URL", "http://127.0.0.1:9200"),
        redis_url=os.environ.get("QUARRY_TEST_REDIS_URL", "redis://127.0.0.1:6379/1"),
        index_prefix=f"qtest-{uuid.uuid4().hex[:8]}",
        embedding_cache_path=Path(cache),
    )


@pytest.fixture(scope="session")
def es(settings: Settings) -> Iterator[Elasticsearch]:
    client = Elasticsearch(settings.es_url, request_timeout=60)
    try:
        client.cluster.health(wait_for_status="yellow", timeout="30s")
    except Exception as exc:  # pragma: no cover - environment problem, said clearly
        pytest.exit(
            f"Elasticsearch is not reachable at {settings.es_url}: run `make test` "
            f"(it starts it) or deploy/stack.sh services. ({exc})",
            returncode=3,
        )
    yield client
    client.indices.delete(
        index=f"{settings.index_prefix}-*", ignore_unavailable=True, allow_no_indices=True
    )


@pytest.fixture(scope="session")
def redis_client(settings: Settings) -> redis.Redis:
    client = redis.Redis.from_url(settings.redis_url)
    try:
        client.ping()
    except Exception as exc:  # pragma: no cover
        pytest.exit(
            f"Redis is not reachable at {settings.redis_url}: run `make test`. ({exc})",
            returncode=3,
        )
    client.flushdb()
    return client


@pytest.fixture(scope="session")
def embedder(settings: Settings) -> Embedder:
    """The embedder a fresh deployment uses (every session's indices are new)."""
    return Embedder(cache_path=settings.embedding_cache_path, backend=DEFAULT_BACKEND)


@pytest.fixture(scope="session")
def runtime(settings: Settings, es: Elasticsearch, embedder: Embedder) -> Runtime:
    return ready_runtime(settings, embedder)


@pytest.fixture(scope="session")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("logs")


@pytest.fixture(scope="session")
def worker(
    settings: Settings, es: Elasticsearch, redis_client: redis.Redis, log_dir: Path
) -> Iterator[WorkerProcess]:
    """One real Celery worker for the session (tests that kill workers start their own)."""
    from worker.app import create_app

    with running_worker(create_app(settings), settings, "session", log_dir) as proc:
        yield proc
