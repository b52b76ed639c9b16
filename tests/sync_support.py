"""Test helpers for the sync engine: a scriptable connector, real worker settings, fixtures.

``ScriptedConnector`` is the filesystem connector with knobs that make a crawl slow, fail,
hang or report per-item failures. Worker processes find it through the registry's
``QUARRY_EXTRA_CONNECTORS`` variable (set here for this process, passed on to workers).

The fixtures (``rt``, ``app``, ``worker``, ``sources``, ``sync``) are a sync stack of the test
module that imports them, on that module's own ``s`` settings (see ``sync_settings``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from celery import Celery
from elasticsearch import Elasticsearch
from pydantic import BaseModel, Field

from acl import AccessControlList
from connectors.base import CrawlLimits
from connectors.errors import SOURCE_ERROR, ConnectorError
from connectors.filesystem import FilesystemConfig, FilesystemConnector
from connectors.models import Checkpoint, CrawlItem, Document, Failure, SyncMode
from search.embed import Embedder
from search.runtime import Runtime
from search.settings import Settings
from sync_engine.jobs import SyncService
from sync_engine.models import DataSourceSpec, SyncJob
from sync_engine.service import DataSourceService
from tests.stack import (
    WorkerProcess,
    module_suffix,
    prefixed,
    ready_runtime,
    running_worker,
    wait_until,
)
from worker.app import create_app

SCRIPTED = "scripted-fs"
EXTRA = f"{SCRIPTED}=tests.sync_support:ScriptedConnector"
os.environ["QUARRY_EXTRA_CONNECTORS"] = EXTRA

TOPICS = [
    "vacation policy",
    "expense reports",
    "kubernetes rollout",
    "security training",
    "quarterly planning",
    "office relocation",
    "benefits enrolment",
    "incident review",
]


class ScriptedConfig(FilesystemConfig):
    delay_s: float = 0.0
    """Sleep before each document: makes a crawl slow enough to stop or kill mid-way."""
    fail_after: int | None = None
    """Raise a systemic ConnectorError before the document with this index."""
    hang_after: int | None = None
    """Stop yielding (sleep ``hang_s``) before the document with this index."""
    hang_s: float = 30.0
    fail_items: list[str] = Field(default_factory=list)
    """Relative paths reported as per-item Failures instead of documents."""


class ScriptedConnector(FilesystemConnector):
    type_name: ClassVar[str] = SCRIPTED
    config_model: ClassVar[type[BaseModel]] = ScriptedConfig

    def __init__(self, config: ScriptedConfig, data_source_id: str) -> None:
        super().__init__(config, data_source_id)
        self.script = config

    def crawl(
        self, mode: SyncMode, checkpoint: Checkpoint | None, limits: CrawlLimits
    ) -> Iterator[CrawlItem]:
        seen = 0
        for item in super().crawl(mode, checkpoint, limits):
            if isinstance(item, Document):
                if self.script.hang_after is not None and seen >= self.script.hang_after:
                    time.sleep(self.script.hang_s)
                if self.script.fail_after is not None and seen >= self.script.fail_after:
                    raise ConnectorError(SOURCE_ERROR, "simulated outage of the source")
                time.sleep(self.script.delay_s)
                seen += 1
                if item.path in self.script.fail_items:
                    yield Failure(id=item.id, reason=f"simulated read error on {item.path}")
                    continue
            yield item


def sync_settings(base: Settings, suffix: str) -> Settings:
    """The session's settings with a prefix (queue, indices, locks) of this module's own."""
    return prefixed(base, suffix).model_copy(
        update={
            "sync_heartbeat_timeout_s": 3.0,
            "sync_stalled_after_s": 3.0,
            "sync_lock_ttl_s": 2.0,
            "bulk_batch_docs": 4,
            "broker_visibility_timeout_s": 4.0,
        }
    )


def worker_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {
        "QUARRY_EXTRA_CONNECTORS": EXTRA,
        "QUARRY_SYNC_HEARTBEAT_TIMEOUT_S": str(settings.sync_heartbeat_timeout_s),
        "QUARRY_SYNC_LOCK_TTL_S": str(settings.sync_lock_ttl_s),
        "QUARRY_SYNC_STALLED_AFTER_S": str(settings.sync_stalled_after_s),
        "QUARRY_SYNC_MAX_ATTEMPTS": str(settings.sync_max_attempts),
        "QUARRY_BULK_BATCH_DOCS": str(settings.bulk_batch_docs),
        "QUARRY_BROKER_VISIBILITY_TIMEOUT_S": str(settings.broker_visibility_timeout_s),
        "QUARRY_SYNC_BATCHES_PER_SYNC": str(settings.sync_batches_per_sync),
        "QUARRY_SYNC_BATCHES_GLOBAL": str(settings.sync_batches_global),
        "QUARRY_SYNC_BATCH_TIMEOUT_S": str(settings.sync_batch_timeout_s),
    }
    env.update(extra)
    return env


def text_for(name: str, i: int) -> str:
    """Deterministic contents, so the shared embedding cache makes reruns cheap."""
    topic = TOPICS[i % len(TOPICS)]
    return f"{name} is note {i} of the handbook. It covers {topic} for every team."


def write_files(root: Path, count: int, prefix: str = "doc") -> list[str]:
    root.mkdir(parents=True, exist_ok=True)
    names = [f"{prefix}-{i:03d}.txt" for i in range(count)]
    for i, name in enumerate(names):
        (root / name).write_text(text_for(name, i))
    return names


def fs_config(root: Path, **script: object) -> dict[str, object]:
    return {
        "root": str(root),
        "default_acl": AccessControlList.public().model_dump(),
        "checkpoint_every": 4,
        **script,
    }


def scripted_spec(
    name: str, root: Path, *, schedule: str | None = None, enabled: bool = True, **script: object
) -> DataSourceSpec:
    """A data source of the scripted connector over ``root`` (``script``: ScriptedConfig knobs)."""
    return DataSourceSpec(
        name=name,
        type=SCRIPTED,
        config=fs_config(root, **script),
        schedule=schedule,
        enabled=enabled,
    )


def indexed(es: Elasticsearch, settings: Settings, source_id: str) -> dict[str, dict[str, object]]:
    """doc_id → stored fields of every indexed document of the source."""
    es.indices.refresh(index=settings.docs_alias)
    hits = es.search(
        index=settings.docs_alias,
        size=1000,
        query={"term": {"data_source_id": source_id}},
        source_includes=["doc_id", "sync_job", "body", "data_source_id"],
    ).body["hits"]["hits"]
    return {h["_source"]["doc_id"]: h["_source"] for h in hits}


def wait_done(sync: SyncService, job_id: str, timeout: float = 90.0) -> SyncJob:
    def finished() -> SyncJob | None:
        job = sync.get(job_id)
        return None if job.status.active else job

    return wait_until(finished, timeout, interval=0.25, message=f"job {job_id} to finish")


def wait_progress(sync: SyncService, job_id: str, scanned: int, timeout: float = 90.0) -> SyncJob:
    """Until the running job has saved a checkpoint covering at least ``scanned`` items."""

    def far_enough() -> SyncJob | None:
        job = sync.get(job_id)
        assert job.status.active, f"job ended early: {job.status} {job.error}"
        return job if job.checkpoint and job.stats.scanned >= scanned else None

    return wait_until(far_enough, timeout, interval=0.1, message=f"job {job_id} to reach {scanned}")


@pytest.fixture(scope="module")
def rt(s: Settings, es: Elasticsearch, embedder: Embedder, redis_client: object) -> Runtime:
    return ready_runtime(s, embedder)


@pytest.fixture(scope="module")
def app(s: Settings) -> Celery:
    return create_app(s)


@pytest.fixture(scope="module")
def worker(
    s: Settings, app: Celery, redis_client: object, log_dir: Path, request: pytest.FixtureRequest
) -> Iterator[WorkerProcess]:
    """One worker named after the module (``sync-jobs`` for ``test_sync_jobs``)."""
    with running_worker(app, s, module_suffix(request), log_dir, **worker_env(s)) as proc:
        yield proc


@pytest.fixture(scope="module")
def sources(rt: Runtime) -> DataSourceService:
    return DataSourceService(rt)


@pytest.fixture(scope="module")
def sync(rt: Runtime, app: Celery, worker: WorkerProcess) -> SyncService:
    """The sync service, with the module's worker running."""
    return SyncService(rt, app)
