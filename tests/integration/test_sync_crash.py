"""Crash safety with real processes: SIGKILL whole workers mid-sync, resume, and give up."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from celery import Celery
from elasticsearch import Elasticsearch

from connectors.models import SyncMode
from search.embed import Embedder
from search.runtime import Runtime
from search.settings import Settings
from sync_engine.locks import redis_client, run_lock
from sync_engine.models import JobStatus, SyncJob
from sync_engine.service import DataSourceService, SweepReport, SyncService
from tests.stack import WorkerProcess, batch_workers, wait_until
from tests.sync_support import (
    app,
    indexed,
    rt,
    scripted_spec,
    sources,
    sync_settings,
    text_for,
    wait_done,
    wait_progress,
    worker_env,
    write_files,
)
from worker.scheduler import Scheduler

# The module's sync stack: fixtures of tests.sync_support, named here for pytest to use.
__all__ = ["app", "rt", "sources"]


@pytest.fixture(scope="module")
def s(settings: Settings) -> Settings:
    # The broker never redelivers here (as in production, where it takes an hour): what
    # resumes a killed worker's job is the sweep, or a duplicate delivery sent by the test.
    return sync_settings(settings, "sc").model_copy(update={"broker_visibility_timeout_s": 3600.0})


@pytest.fixture(scope="module", autouse=True)
def batch_worker(
    s: Settings, app: Celery, redis_client: object, log_dir: Path
) -> Iterator[list[WorkerProcess]]:
    """A batch worker for the module: the tests kill the runner workers they start."""
    with batch_workers(app, s, "sc", log_dir, **worker_env(s)) as procs:
        yield procs


@pytest.fixture(scope="module")
def sync(rt: Runtime, app: Celery) -> SyncService:
    """The sync service; each test starts (and kills) workers of its own."""
    return SyncService(rt, app)


def _workers_up(app: Celery, names: Iterable[str]) -> None:
    """Until these workers (not just any on the shared broker) answer a ping."""

    def answered() -> bool:
        replies = app.control.ping(timeout=0.5)
        return set(names) <= {host.split("@")[0] for reply in replies for host in reply}

    wait_until(answered, 120, message=f"workers {sorted(names)} to answer")


@contextmanager
def _workers(
    app: Celery, s: Settings, log_dir: Path, *names: str
) -> Iterator[dict[str, WorkerProcess]]:
    """These workers, once they answer a ping; stopped after."""
    workers = {name: WorkerProcess(s, name, log_dir, **worker_env(s)) for name in names}
    try:
        _workers_up(app, names)
        yield workers
    finally:
        for worker in workers.values():
            worker.stop()


def _started_on(
    sync: SyncService, source_id: str, workers: dict[str, WorkerProcess]
) -> tuple[SyncJob, str, str]:
    """A full sync started and 12 items in: (the job, its worker's name, the other worker's)."""
    job = sync.start(source_id, SyncMode.FULL)
    victim, survivor = _victim(wait_progress(sync, job.id, 12), workers)
    return job, victim, survivor


def _victim(job: SyncJob, workers: dict[str, WorkerProcess]) -> tuple[str, str]:
    """(the name of the worker running the job, the other one's)."""
    assert job.worker
    a, b = workers
    return (a, b) if job.worker.startswith(f"{a}@") else (b, a)


def _lock_expired(s: Settings, source_id: str) -> None:
    wait_until(lambda: not run_lock(s, source_id).held(), 10, message="the lock to expire")


def _assert_index_matches_source(
    es: Elasticsearch, s: Settings, source_id: str, names: list[str], job_id: str
) -> None:
    docs = indexed(es, s, source_id)
    assert sorted(docs) == sorted(f"{source_id}:{n}" for n in names)  # no loss
    count = es.count(index=s.docs_alias, query={"term": {"data_source_id": source_id}})
    assert count.body["count"] == len(names)  # no duplicates
    assert {d["sync_job"] for d in docs.values()} == {job_id}
    assert all(docs[f"{source_id}:{n}"]["body"] == text_for(n, i) for i, n in enumerate(names))


def test_duplicate_delivery_is_dropped_under_a_live_owner_and_resumes_a_dead_ones_job(
    s: Settings,
    app: Celery,
    sources: DataSourceService,
    sync: SyncService,
    es: Elasticsearch,
    log_dir: Path,
    tmp_path: Path,
) -> None:
    names = write_files(tmp_path, 60)
    sources.create(scripted_spec("crashy", tmp_path, delay_s=0.2))
    with _workers(app, s, log_dir, "crash-a", "crash-b") as workers:
        job, victim, survivor = _started_on(sync, "crashy", workers)
        # A second delivery while the run lives (what a broker redelivery does) waits until
        # the lock would expire, finds it renewed, and is dropped instead of retried forever.
        live = app.send_task("quarry.sync", args=[job.id])
        assert live.get(timeout=30) == {"job_id": job.id, "status": "skipped", "attempts": 1}
        assert "retry: Retry in" in workers[survivor].log_tail(400)
        workers[victim].kill()  # the main process and its pool child: nothing requeues the task
        frozen = sync.get(job.id)
        assert frozen.status == JobStatus.RUNNING and frozen.attempts == 1
        assert frozen.checkpoint is not None and frozen.stats.scanned < 60
        # Delivered while the dead owner's lock has not expired yet: it waits, then resumes.
        dead = app.send_task("quarry.sync", args=[job.id])
        assert dead.get(timeout=120) == {"job_id": job.id, "status": "succeeded", "attempts": 2}
        done = sync.get(job.id)
        assert done.status == JobStatus.SUCCEEDED, done.error
        assert done.worker and done.worker.startswith(f"{survivor}@")
        # Resumed at the checkpoint, not from scratch: each file was counted exactly once.
        assert done.stats.scanned == 60 and done.stats.added + done.stats.unchanged == 60
        # A delivery for a finished job is a no-op.
        late = app.send_task("quarry.sync", args=[job.id])
        assert late.get(timeout=30) == {"job_id": job.id, "status": "skipped", "attempts": 2}
    _assert_index_matches_source(es, s, "crashy", names, job.id)


def test_sweep_resumes_a_sigkilled_workers_job_on_another_worker(
    s: Settings,
    app: Celery,
    sources: DataSourceService,
    sync: SyncService,
    es: Elasticsearch,
    log_dir: Path,
    tmp_path: Path,
) -> None:
    names = write_files(tmp_path, 40)
    sources.create(scripted_spec("swept", tmp_path, delay_s=0.1))
    with _workers(app, s, log_dir, "sweep-a", "sweep-b") as workers:
        job, victim, survivor = _started_on(sync, "swept", workers)
        workers[victim].kill()  # as a crash would: nothing requeues the task for an hour
        _lock_expired(s, "swept")
        killed = sync.get(job.id)
        assert sync.sweep(datetime.now(UTC)).resumed == []  # its heartbeat is still fresh
        # The admin sees it: no heartbeat for sync_stalled_after_s shows as stalled.
        wait_until(lambda: sync.get(job.id).stalled, 30, message="the job to show as stalled")
        assert sync.list("swept", 1)[0].stalled
        later = datetime.now(UTC) + timedelta(seconds=s.sync_heartbeat_timeout_s + 1)
        barrier = threading.Barrier(3)
        reports: list[SweepReport] = []

        def sweep() -> None:
            barrier.wait()
            reports.append(sync.sweep(later))

        threads = [threading.Thread(target=sweep) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # Three sweepers at once: exactly one re-enqueues it, none fails it.
        assert [j.id for r in reports for j in r.resumed] == [job.id]
        assert [j.id for r in reports for j in r.failed] == []
        # What the admin sees never goes backwards while the resumed attempt replays items.
        seen: list[tuple[int, int]] = [(killed.stats.scanned, killed.stats.added)]

        def finished() -> SyncJob | None:
            job_now = sync.get(job.id)
            seen.append((job_now.stats.scanned, job_now.stats.added))
            return None if job_now.status.active else job_now

        done = wait_until(finished, 120, interval=0.05, message="the resumed job to finish")
        assert seen == sorted(seen), seen
        assert done.status == JobStatus.SUCCEEDED, done.error
        assert done.attempts == 2 and done.resumes == 1 and done.resumed_at is not None
        assert done.worker and done.worker.startswith(f"{survivor}@")
        # Exact across the replay: every document was new to the index, counted once.
        assert done.stats.scanned == 40 and done.stats.added == 40
        assert done.stats.unchanged == 0 and not done.stalled
    _assert_index_matches_source(es, s, "swept", names, job.id)


def test_sweep_fails_a_job_loudly_once_its_workers_died_max_attempts_times(
    s: Settings,
    embedder: Embedder,
    app: Celery,
    sources: DataSourceService,
    log_dir: Path,
    tmp_path: Path,
) -> None:
    limited = s.model_copy(update={"sync_max_attempts": 2})
    rt = Runtime(limited, embedder=embedder)
    sync = SyncService(rt, app)
    scheduler = Scheduler(rt, app)
    write_files(tmp_path, 6)
    sources.create(scripted_spec("doomed", tmp_path, hang_after=1, hang_s=60, checkpoint_every=1))
    # Each attempt indexes one file, then hangs; its worker is killed before its own
    # watchdog (60 s here) would fail the job.
    env = worker_env(limited, QUARRY_SYNC_HEARTBEAT_TIMEOUT_S="60")
    first = WorkerProcess(limited, "doomed-1", log_dir, **env)
    try:
        job = sync.start("doomed", SyncMode.FULL)
        wait_progress(sync, job.id, 1)
        first.kill()
    finally:
        first.stop()
    _lock_expired(s, "doomed")
    early = scheduler.run_once(datetime.now(UTC) - timedelta(hours=1))
    assert early.resumed == [] and early.swept == []
    later = datetime.now(UTC) + timedelta(seconds=s.sync_heartbeat_timeout_s + 1)
    report = scheduler.run_once(later)
    assert [j.id for j in report.resumed] == [job.id] and report.swept == []
    assert sync.get(job.id).status == JobStatus.RUNNING

    second = WorkerProcess(limited, "doomed-2", log_dir, **env)
    try:
        resumed = wait_progress(sync, job.id, 2)
        assert resumed.attempts == 2 and resumed.worker
        assert resumed.worker.startswith("doomed-2@")
        # Progress and the checkpoint are saved in turn: kill only once both are on disk.
        wait_until(
            lambda: (
                ((sync.get(job.id).checkpoint or {}).get("pass") or {}).get("cursor")
                == "doc-001.txt"
            ),
            timeout=30,
            message="the second attempt's checkpoint",
        )
        second.kill()
    finally:
        second.stop()
    _lock_expired(s, "doomed")
    later = datetime.now(UTC) + timedelta(seconds=s.sync_heartbeat_timeout_s + 1)
    report = scheduler.run_once(later)
    assert [j.id for j in report.swept] == [job.id] and report.resumed == []
    failed = sync.get(job.id)
    assert failed.status == JobStatus.FAILED and failed.attempts == 2
    assert failed.error and failed.error.startswith("gave up after 2 attempts: worker doomed-2@")
    assert failed.checkpoint is not None and failed.checkpoint["pass"]["cursor"] == "doc-001.txt"
    assert sync.active("doomed") is None


def test_a_queued_job_whose_message_was_lost_is_enqueued_again(
    s: Settings,
    app: Celery,
    sources: DataSourceService,
    sync: SyncService,
    es: Elasticsearch,
    log_dir: Path,
    tmp_path: Path,
) -> None:
    """Redis restarted empty while the job waited: the sweep sends its task again, once per
    ``sync_requeue_after_s``, and a worker runs it; nobody has to start another sync."""
    names = write_files(tmp_path, 5)
    sources.create(scripted_spec("lostmsg", tmp_path))
    job = sync.start("lostmsg", SyncMode.FULL)  # no worker consumes this module's queue yet
    queue = f"{s.index_prefix}-tasks"
    client = redis_client(s)
    assert client.llen(queue) >= 1
    client.delete(queue)  # the message is gone, as after a Redis restart without persistence
    assert sync.sweep(datetime.now(UTC)).requeued == []  # not waiting long enough yet
    later = datetime.now(UTC) + timedelta(seconds=s.sync_requeue_after_s + 1)
    assert sync.sweep(later).requeued == [job.id]
    assert sync.sweep(later).requeued == []  # once per interval, whoever sweeps
    with _workers(app, s, log_dir, "lost-a"):
        done = wait_done(sync, job.id, timeout=120)
    assert done.status == JobStatus.SUCCEEDED, done.error
    assert done.requeues == 1 and done.stats.added == 5
    _assert_index_matches_source(es, s, "lostmsg", names, job.id)
