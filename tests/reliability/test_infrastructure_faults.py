"""Syncs survive infrastructure faults without a human: each experiment breaks something
mid-sync, lets the engine (worker, runner, scheduler) recover on its own, then checks with
``verify`` that the index equals the source, and records the time it took.

Runs on the suite's own Elasticsearch and Redis (see conftest); ``make reliability``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery
from elasticsearch import Elasticsearch

from connectors.models import SyncMode
from search.embed import Embedder
from search.runtime import Runtime
from search.settings import Settings
from sync_engine.jobs import SyncService
from sync_engine.models import JobStatus, SyncJob
from sync_engine.service import DataSourceService
from sync_engine.store import SyncStore
from sync_engine.verify import Verifier
from tests.stack import WorkerProcess, batch_workers, ready_runtime, wait_until
from tests.sync_support import scripted_spec, sync_settings, wait_progress, worker_env, write_files
from worker.app import create_app
from worker.scheduler import Scheduler

from .conftest import OwnElasticsearch, OwnRedis, record

FILES = 30


@pytest.fixture(scope="module")
def s(settings: Settings) -> Settings:
    return sync_settings(settings, "rel").model_copy(
        update={
            "sync_infra_patience_s": 20.0,
            "sync_requeue_after_s": 3.0,
            "sync_lock_ttl_s": 6.0,
            "broker_visibility_timeout_s": 3600.0,
        }
    )


def _env(s: Settings) -> dict[str, str]:
    return worker_env(
        s,
        QUARRY_SYNC_INFRA_PATIENCE_S=str(s.sync_infra_patience_s),
        QUARRY_SYNC_REQUEUE_AFTER_S=str(s.sync_requeue_after_s),
    )


@pytest.fixture(scope="module")
def rt(s: Settings, es: Elasticsearch, embedder: Embedder) -> Runtime:
    # ``es`` (the session fixture) deletes the suite's indices at the end.
    return ready_runtime(s, embedder)


@pytest.fixture(scope="module")
def app(s: Settings) -> Celery:
    return create_app(s)


@pytest.fixture(scope="module", autouse=True)
def batch_worker(s: Settings, app: Celery, rt: Runtime, log_dir: Path) -> Iterator[None]:
    """A batch worker for the module (the tests restart services under it, and kill runners)."""
    with batch_workers(app, s, "rel", log_dir, **_env(s)):
        yield


@pytest.fixture(scope="module")
def sources(rt: Runtime) -> DataSourceService:
    return DataSourceService(rt)


@pytest.fixture(scope="module")
def sync(rt: Runtime, app: Celery) -> SyncService:
    return SyncService(rt, app)


@pytest.fixture
def scheduler(rt: Runtime, app: Celery) -> Iterator[None]:
    """The scheduler loop, as deployed: it sweeps dead and lost jobs every second."""
    stop = threading.Event()
    thread = threading.Thread(
        target=Scheduler(rt, app, tick_s=1.0).run_forever, args=(stop,), daemon=True
    )
    thread.start()
    yield
    stop.set()
    thread.join(30)


def _worker(s: Settings, name: str, log_dir: Path, app: Celery) -> WorkerProcess:
    proc = WorkerProcess(s, name, log_dir, **_env(s))

    def answers() -> bool:
        try:
            replies = app.control.ping(timeout=0.5)
        except Exception:  # this process's broker connection died with the old Redis
            return False
        return any(name in host for reply in replies for host in reply)

    try:
        wait_until(answers, 120, message=f"worker {name}")
    except BaseException:
        proc.stop()
        raise
    return proc


def _finished(sync: SyncService, job_id: str, timeout: float) -> SyncJob:
    def done() -> SyncJob | None:
        try:
            job = sync.get(job_id)
        except Exception:  # the backend is still coming back
            return None
        return None if job.status.active else job

    return wait_until(done, timeout, interval=0.5, message=f"job {job_id} to finish")


def _no_drift(rt: Runtime, source_id: str, job: SyncJob) -> int:
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.stats.added == FILES and job.stats.scanned == FILES  # exact across resumes
    report = Verifier(rt, SyncStore(rt.es, rt.settings)).run(source_id)
    assert report.drift == 0, report
    assert report.source_documents == FILES
    return report.drift


def _slow_source(sources: DataSourceService, name: str, root: Path, delay_s: float = 0.2) -> str:
    write_files(root, FILES)
    return sources.create(scripted_spec(name, root, delay_s=delay_s)).id


def test_elasticsearch_restart_mid_sync(
    s: Settings,
    rt: Runtime,
    app: Celery,
    sources: DataSourceService,
    sync: SyncService,
    own_es: OwnElasticsearch,
    log_dir: Path,
    tmp_path: Path,
    scheduler: None,
) -> None:
    ds = _slow_source(sources, "es-restart", tmp_path)
    proc = _worker(s, "es-restart", log_dir, app)
    try:
        job = sync.start(ds, SyncMode.FULL)
        wait_progress(sync, job.id, 8)
        own_es.stop()
        own_es.start()
        back = time.monotonic()
        done = _finished(sync, job.id, 300)
        recovered_s = time.monotonic() - back
    finally:
        proc.stop()
    record(
        "es_restart",
        recover_s=round(recovered_s, 1),
        drift=_no_drift(rt, ds, done),
        attempts=done.attempts,
        status=done.status.value,
    )


def test_elasticsearch_frozen_45_s_mid_sync(
    s: Settings,
    rt: Runtime,
    app: Celery,
    sources: DataSourceService,
    sync: SyncService,
    own_es: OwnElasticsearch,
    log_dir: Path,
    tmp_path: Path,
    scheduler: None,
) -> None:
    ds = _slow_source(sources, "es-freeze", tmp_path)
    proc = _worker(s, "es-freeze", log_dir, app)
    try:
        job = sync.start(ds, SyncMode.FULL)
        wait_progress(sync, job.id, 8)
        own_es.freeze()
        try:
            time.sleep(45)
        finally:
            own_es.thaw()
        back = time.monotonic()
        done = _finished(sync, job.id, 300)
        recovered_s = time.monotonic() - back
    finally:
        proc.stop()
    record(
        "es_freeze",
        recover_s=round(recovered_s, 1),
        drift=_no_drift(rt, ds, done),
        attempts=done.attempts,
        status=done.status.value,
    )


def test_redis_restarted_empty_mid_sync(
    s: Settings,
    rt: Runtime,
    app: Celery,
    sources: DataSourceService,
    sync: SyncService,
    own_redis: OwnRedis,
    log_dir: Path,
    tmp_path: Path,
    scheduler: None,
) -> None:
    ds = _slow_source(sources, "redis-restart", tmp_path, delay_s=0.6)  # outlives the outage
    proc = _worker(s, "redis-restart", log_dir, app)
    try:
        job = sync.start(ds, SyncMode.FULL)
        wait_progress(sync, job.id, 8)
        own_redis.stop()
        time.sleep(5)
        own_redis.start()
        back = time.monotonic()
        assert sync.get(job.id).status == JobStatus.RUNNING  # it outlived the outage
        done = _finished(sync, job.id, 300)
        recovered_s = time.monotonic() - back
    finally:
        proc.stop()
    record(
        "redis_restart",
        recover_s=round(recovered_s, 1),
        drift=_no_drift(rt, ds, done),
        attempts=done.attempts,
        status=done.status.value,
    )


def test_queued_job_survives_redis_restarted_empty(
    s: Settings,
    rt: Runtime,
    app: Celery,
    sources: DataSourceService,
    sync: SyncService,
    own_redis: OwnRedis,
    log_dir: Path,
    tmp_path: Path,
    scheduler: None,
) -> None:
    ds = _slow_source(sources, "queue-loss", tmp_path)
    job = sync.start(ds, SyncMode.FULL)  # no worker yet: it waits in the queue
    own_redis.stop()
    own_redis.start()  # empty: the task message is gone
    back = time.monotonic()
    proc = _worker(s, "queue-loss", log_dir, app)
    try:
        done = _finished(sync, job.id, 300)
        recovered_s = time.monotonic() - back
    finally:
        proc.stop()
    assert done.requeues >= 1
    record(
        "queue_loss",
        recover_s=round(recovered_s, 1),
        drift=_no_drift(rt, ds, done),
        status=done.status.value,
    )


def test_worker_sigkilled_mid_sync(
    s: Settings,
    rt: Runtime,
    app: Celery,
    sources: DataSourceService,
    sync: SyncService,
    log_dir: Path,
    tmp_path: Path,
    scheduler: None,
) -> None:
    ds = _slow_source(sources, "worker-kill", tmp_path)
    first = _worker(s, "kill-a", log_dir, app)
    second = _worker(s, "kill-b", log_dir, app)
    try:
        job = sync.start(ds, SyncMode.FULL)
        running = wait_progress(sync, job.id, 8)
        victim = first if running.worker and running.worker.startswith("kill-a@") else second
        victim.kill()  # parent and child: the whole process group
        killed = time.monotonic()
        done = _finished(sync, job.id, 300)
        recovered_s = time.monotonic() - killed
    finally:
        first.stop()
        second.stop()
    assert done.resumes == 1 and done.attempts == 2
    record(
        "worker_kill",
        recover_s=round(recovered_s, 1),
        drift=_no_drift(rt, ds, done),
        status=done.status.value,
    )
