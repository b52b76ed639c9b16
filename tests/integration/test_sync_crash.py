"""Crash safety with real processes: SIGKILL a worker mid-sync, and a worker that never returns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from celery import Celery
from elasticsearch import Elasticsearch

from connectors.models import SyncMode
from search.embed import Embedder
from search.runtime import Runtime
from search.settings import Settings
from search.sync.locks import run_lock
from search.sync.models import DataSourceSpec, JobStatus
from search.sync.service import DataSourceService, SyncService
from tests.stack import WorkerProcess, wait_until
from tests.sync_support import (
    SCRIPTED,
    fs_config,
    indexed,
    sync_settings,
    text_for,
    wait_done,
    wait_progress,
    worker_env,
    write_files,
)
from worker.app import create_app
from worker.scheduler import Scheduler


@pytest.fixture(scope="module")
def s(settings: Settings) -> Settings:
    return sync_settings(settings, "sc")


@pytest.fixture(scope="module")
def rt(s: Settings, es: Elasticsearch, embedder: Embedder, redis_client: object) -> Runtime:
    runtime = Runtime(s, embedder=embedder)
    runtime.index.ensure()
    return runtime


@pytest.fixture(scope="module")
def app(s: Settings) -> Celery:
    return create_app(s)


@pytest.fixture(scope="module")
def sources(rt: Runtime) -> DataSourceService:
    return DataSourceService(rt)


@pytest.fixture(scope="module")
def sync(rt: Runtime, app: Celery) -> SyncService:
    return SyncService(rt, app)


def _workers_up(app: Celery, count: int) -> None:
    wait_until(
        lambda: len(app.control.ping(timeout=0.5)) >= count,
        120,
        message=f"{count} workers to answer",
    )


def test_sigkilled_worker_resumes_from_its_checkpoint_on_another_worker(
    s: Settings,
    app: Celery,
    sources: DataSourceService,
    sync: SyncService,
    es: Elasticsearch,
    log_dir: Path,
    tmp_path: Path,
) -> None:
    names = write_files(tmp_path, 40)
    sources.create(
        DataSourceSpec(name="crashy", type=SCRIPTED, config=fs_config(tmp_path, delay_s=0.1))
    )
    a = WorkerProcess(s, "crash-a", log_dir, **worker_env(s))
    b = WorkerProcess(s, "crash-b", log_dir, **worker_env(s))
    try:
        _workers_up(app, 2)
        job = sync.start("crashy", SyncMode.FULL)
        running = wait_progress(sync, job.id, 12)
        assert running.worker
        victim, survivor = (a, b) if running.worker.startswith("crash-a@") else (b, a)
        survivor_name = "crash-b@" if survivor is b else "crash-a@"
        # A second delivery while the first run lives (what a visibility timeout does) must
        # wait for the lock, not crawl in parallel.
        duplicate = app.send_task("quarry.sync", args=[job.id])
        wait_until(
            lambda: "retry: Retry in" in survivor.log_tail(400),
            30,
            message="the duplicate delivery to back off",
        )
        victim.kill()
        frozen = sync.get(job.id)
        assert frozen.status == JobStatus.RUNNING and frozen.attempts == 1
        assert frozen.checkpoint is not None and frozen.stats.scanned < 40

        done = wait_done(sync, job.id, timeout=120)
        assert done.status == JobStatus.SUCCEEDED, done.error
        assert done.attempts == 2  # the killed run, then exactly one resumed run
        assert done.worker and done.worker.startswith(survivor_name)
        # Resumed at the checkpoint, not from scratch: each file was counted exactly once.
        assert done.stats.scanned == 40 and done.stats.added + done.stats.unchanged == 40
        assert duplicate.get(timeout=60)["job_id"] == job.id
    finally:
        a.stop()
        b.stop()
    docs = indexed(es, s, "crashy")
    assert sorted(docs) == sorted(f"crashy:{n}" for n in names)  # no loss
    es.indices.refresh(index=s.docs_alias)
    count = es.count(index=s.docs_alias, query={"term": {"data_source_id": "crashy"}})
    assert count.body["count"] == 40  # no duplicates
    assert {d["sync_job"] for d in docs.values()} == {job.id}
    assert all(docs[f"crashy:{n}"]["body"] == text_for(n, i) for i, n in enumerate(names))


def test_sweep_fails_a_job_whose_worker_died_for_good(
    s: Settings,
    rt: Runtime,
    app: Celery,
    sources: DataSourceService,
    sync: SyncService,
    log_dir: Path,
    tmp_path: Path,
) -> None:
    write_files(tmp_path, 6)
    sources.create(
        DataSourceSpec(
            name="orphan",
            type=SCRIPTED,
            config=fs_config(tmp_path, hang_after=4, hang_s=60, checkpoint_every=2),
        )
    )
    # Its own watchdog would fail the job first; this worker is killed before it can.
    c = WorkerProcess(s, "crash-c", log_dir, **worker_env(s, QUARRY_SYNC_HEARTBEAT_TIMEOUT_S="60"))
    try:
        _workers_up(app, 1)
        job = sync.start("orphan", SyncMode.FULL)
        wait_progress(sync, job.id, 4)
        c.kill()
    finally:
        c.stop()
    wait_until(lambda: not run_lock(s, "orphan").held(), 10, message="the lock to expire")
    scheduler = Scheduler(rt, app)
    assert job.id not in [
        j.id for j in scheduler.run_once(datetime.now(UTC) - timedelta(hours=1)).swept
    ]
    assert sync.get(job.id).status == JobStatus.RUNNING
    later = datetime.now(UTC) + timedelta(seconds=s.sync_heartbeat_timeout_s + 1)
    assert [j.id for j in scheduler.run_once(later).swept] == [job.id]
    failed = sync.get(job.id)
    assert failed.status == JobStatus.FAILED
    assert failed.error and failed.error.startswith(
        f"no progress for {s.sync_heartbeat_timeout_s:g} s"
    )
    assert failed.checkpoint is not None and failed.checkpoint["pass"]["cursor"] == "doc-003.txt"
    assert sync.active("orphan") is None
