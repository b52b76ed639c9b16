"""One sync over many workers: batch tasks on their own queue, real workers, real SIGKILL."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery
from elasticsearch import Elasticsearch

from connectors.models import SyncMode
from search.runtime import Runtime
from search.settings import Settings
from sync_engine.fanout import GlobalSlots
from sync_engine.models import JobStatus, SyncJob
from sync_engine.service import DataSourceService, SyncService
from tests.stack import WorkerProcess, answering, batch_workers, wait_until
from tests.sync_support import (
    app,
    indexed,
    rt,
    scripted_spec,
    sources,
    sync_settings,
    wait_done,
    worker_env,
)

# The module's sync stack: fixtures of tests.sync_support, named here for pytest to use.
__all__ = ["app", "rt", "sources"]


@pytest.fixture(scope="module")
def s(settings: Settings) -> Settings:
    return sync_settings(settings, "fo").model_copy(
        update={
            "bulk_batch_docs": 2,
            "sync_batches_per_sync": 2,
            "sync_batches_global": 2,
            "sync_batch_timeout_s": 20.0,
            "broker_visibility_timeout_s": 4.0,
        }
    )


@pytest.fixture(scope="module")
def runners(
    s: Settings, app: Celery, redis_client: object, log_dir: Path
) -> Iterator[list[WorkerProcess]]:
    """Two runner workers: two data sources can sync at once."""
    procs = [WorkerProcess(s, f"fo-r{i}", log_dir, **worker_env(s)) for i in range(2)]
    try:
        for proc in procs:
            answering(app, proc, s.task_queue)
        yield procs
    finally:
        for proc in procs:
            proc.stop()


@pytest.fixture(scope="module")
def sync(rt: Runtime, app: Celery, runners: list[WorkerProcess]) -> SyncService:
    return SyncService(rt, app)


def _write_corpus(root: Path, count: int, passages: int = 1) -> dict[str, str]:
    """Files whose text is new to the embedding cache, so every batch really embeds."""
    root.mkdir(parents=True, exist_ok=True)
    salt = uuid.uuid4().hex[:8]
    texts: dict[str, str] = {}
    for i in range(count):
        name = f"doc-{i:03d}.txt"
        paragraphs = [
            f"Run {salt} note {i} part {p}: the {['audit', 'budget', 'rollout'][p % 3]} "
            f"checklist for team {i % 7} lists owners, dates and open risks."
            for p in range(passages)
        ]
        texts[name] = "\n\n".join(paragraphs)
        (root / name).write_text(texts[name])
    return texts


def _assert_index_equals_source(
    es: Elasticsearch, s: Settings, source_id: str, texts: dict[str, str], job: SyncJob
) -> None:
    docs = indexed(es, s, source_id)
    assert sorted(docs) == sorted(f"{source_id}:{n}" for n in texts)  # nothing lost
    count = es.count(index=s.docs_alias, query={"term": {"data_source_id": source_id}})
    assert count.body["count"] == len(texts)  # no duplicates
    assert {d["sync_job"] for d in docs.values()} == {job.id}
    for name, text in texts.items():
        assert docs[f"{source_id}:{name}"]["body"] == text
    # Counts come from the batch results, each batch counted once.
    assert job.stats.added == len(texts) and job.stats.scanned == len(texts)
    assert job.stats.failed == 0 and job.stats.unchanged == 0 and job.stats.modified == 0


def _batches(proc: WorkerProcess, event: str) -> int:
    """Batch tasks the worker logged as ``received`` or ``succeeded`` (Celery's own lines)."""
    lines = proc.log_path.read_text(errors="replace").splitlines()
    return sum(1 for line in lines if '"Task quarry.sync_batch[' in line and f"] {event}" in line)


def test_two_batch_workers_write_one_sync_and_the_index_equals_the_source(
    s: Settings,
    app: Celery,
    sources: DataSourceService,
    sync: SyncService,
    es: Elasticsearch,
    log_dir: Path,
    tmp_path: Path,
) -> None:
    texts = _write_corpus(tmp_path, 16)
    sources.create(scripted_spec("fan", tmp_path))
    with batch_workers(app, s, "fan", log_dir, count=2, **worker_env(s)) as workers:
        job = wait_done(sync, sync.start("fan", SyncMode.FULL).id, timeout=180)
        done = [_batches(w, "succeeded") for w in workers]
    assert job.status == JobStatus.SUCCEEDED, job.error
    _assert_index_equals_source(es, s, "fan", texts, job)
    assert all(n > 0 for n in done), f"batches per worker: {done}"
    assert sum(done) >= 16 // s.bulk_batch_docs


def test_a_batch_worker_killed_mid_sync_loses_and_double_counts_nothing(
    s: Settings,
    app: Celery,
    sources: DataSourceService,
    sync: SyncService,
    es: Elasticsearch,
    log_dir: Path,
    tmp_path: Path,
) -> None:
    texts = _write_corpus(tmp_path, 16, passages=6)
    sources.create(scripted_spec("killed", tmp_path))
    with batch_workers(app, s, "killed", log_dir, count=2, **worker_env(s)) as workers:
        victim = workers[0]

        def victim_busy() -> bool:
            holding = _batches(victim, "received") > _batches(victim, "succeeded")
            return holding and sync.get(job.id).stats.scanned >= 2

        job = sync.start("killed", SyncMode.FULL)
        wait_until(victim_busy, 120, interval=0.05, message="the victim to hold a batch")
        victim.kill()  # SIGKILL, mid-batch: its batch is redelivered (late ack) or re-sent
        finished = wait_done(sync, job.id, timeout=240)
    assert finished.status == JobStatus.SUCCEEDED, finished.error
    _assert_index_equals_source(es, s, "killed", texts, finished)


def test_a_second_source_syncs_while_a_big_one_runs_under_the_global_cap(
    s: Settings,
    app: Celery,
    sources: DataSourceService,
    sync: SyncService,
    es: Elasticsearch,
    log_dir: Path,
    tmp_path: Path,
) -> None:
    big = _write_corpus(tmp_path / "big", 40)
    small = _write_corpus(tmp_path / "small", 3)
    sources.create(scripted_spec("big", tmp_path / "big", delay_s=0.1))
    sources.create(scripted_spec("small", tmp_path / "small"))
    slots = GlobalSlots(s)
    peak = 0
    stop = threading.Event()

    def watch() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, slots.in_use())
            stop.wait(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    with batch_workers(app, s, "cap", log_dir, count=2, **worker_env(s)):
        watcher.start()
        try:
            big_job = sync.start("big", SyncMode.FULL)
            wait_until(lambda: sync.get(big_job.id).stats.scanned >= 4, 120, message="big's start")
            small_job = wait_done(sync, sync.start("small", SyncMode.FULL).id, timeout=120)
            big_then = sync.get(big_job.id)
            big_done = wait_done(sync, big_job.id, timeout=300)
        finally:
            stop.set()
            watcher.join(5)
    assert small_job.status == JobStatus.SUCCEEDED, small_job.error
    assert big_then.status.active, "the small sync waited for the big one"
    assert big_done.status == JobStatus.SUCCEEDED, big_done.error
    _assert_index_equals_source(es, s, "small", small, small_job)
    _assert_index_equals_source(es, s, "big", big, big_done)
    assert 1 <= peak <= s.sync_batches_global
    assert slots.in_use() == 0  # every slot given back
