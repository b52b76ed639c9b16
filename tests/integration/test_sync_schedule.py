"""The scheduler: due schedules start real jobs on a real worker, never twice, never on top."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from celery import Celery

from connectors.models import SyncMode
from search.runtime import Runtime
from search.settings import Settings
from sync_engine.models import JobStatus
from sync_engine.service import DataSourceService, SyncService
from tests.sync_support import (
    app,
    rt,
    scripted_spec,
    sources,
    sync,
    sync_settings,
    wait_done,
    worker,
    write_files,
)
from worker.scheduler import Scheduler, TickReport, due_at

# The module's sync stack: fixtures of tests.sync_support, named here for pytest to use.
__all__ = ["app", "rt", "sources", "sync", "worker"]


@pytest.fixture(scope="module")
def s(settings: Settings) -> Settings:
    return sync_settings(settings, "ss")


def _started(report: TickReport, source_id: str) -> list[str]:
    return [j.id for j in report.started if j.data_source_id == source_id]


def test_due_schedule_runs_a_job_on_a_worker_once_per_firing(
    rt: Runtime, app: Celery, sources: DataSourceService, sync: SyncService, tmp_path: Path
) -> None:
    write_files(tmp_path, 5)
    ds = sources.create(scripted_spec("nightly", tmp_path, schedule="*/10 * * * *"))
    scheduler = Scheduler(rt, app)
    first = due_at("*/10 * * * *", ds.created_at)
    assert _started(scheduler.run_once(first - timedelta(seconds=1)), "nightly") == []

    report = scheduler.run_once(first + timedelta(seconds=5))
    [job_id] = _started(report, "nightly")
    job = wait_done(sync, job_id)
    assert job.status == JobStatus.SUCCEEDED and job.trigger == "schedule"
    assert job.mode == SyncMode.FULL  # never synced before: a full sync
    assert job.worker and job.worker.startswith("sync-schedule@") and job.stats.added == 5

    # The same firing never fires again, whichever tick or scheduler looks at it.
    assert _started(scheduler.run_once(first + timedelta(minutes=9)), "nightly") == []
    # Missed firings (the scheduler was down for hours) collapse into one incremental sync.
    later = first + timedelta(hours=3, seconds=1)
    [again] = _started(scheduler.run_once(later), "nightly")
    assert sync.get(again).mode == SyncMode.INCREMENTAL
    assert wait_done(sync, again).status == JobStatus.SUCCEEDED
    assert _started(scheduler.run_once(later + timedelta(minutes=5)), "nightly") == []
    sources.delete("nightly")


def test_schedule_skips_while_a_job_runs_and_follows_changes_without_restart(
    rt: Runtime, app: Celery, sources: DataSourceService, sync: SyncService, tmp_path: Path
) -> None:
    write_files(tmp_path, 10)
    ds = sources.create(scripted_spec("hourly", tmp_path, schedule="0 * * * *", delay_s=0.2))
    scheduler = Scheduler(rt, app)
    manual = sync.start("hourly", SyncMode.FULL)
    due = due_at("0 * * * *", ds.created_at) + timedelta(seconds=1)
    report = scheduler.run_once(due)
    assert _started(report, "hourly") == [] and report.skipped == ["hourly"]
    active = sync.active("hourly")
    assert active is not None and active.id == manual.id
    assert wait_done(sync, manual.id).status == JobStatus.SUCCEEDED
    assert _started(scheduler.run_once(due), "hourly") == []  # the skipped firing is spent

    # Edits apply on the next tick: no schedule, nothing fires, even days later.
    sources.update(
        "hourly",
        scripted_spec("hourly", tmp_path, delay_s=0.2),
    )
    assert _started(scheduler.run_once(due + timedelta(days=2)), "hourly") == []
    sources.update(
        "hourly",
        scripted_spec("hourly", tmp_path, schedule="* * * * *", enabled=False),
    )
    assert _started(scheduler.run_once(due + timedelta(days=3)), "hourly") == []
    sources.delete("hourly")


def test_two_schedulers_never_double_fire(
    rt: Runtime, app: Celery, sources: DataSourceService, sync: SyncService, tmp_path: Path
) -> None:
    write_files(tmp_path, 3)
    ds = sources.create(scripted_spec("twice", tmp_path, schedule="*/5 * * * *"))
    now = due_at("*/5 * * * *", ds.created_at) + timedelta(seconds=2)
    barrier = threading.Barrier(4)
    reports: list[TickReport] = []

    def tick() -> None:
        scheduler = Scheduler(rt, app)
        barrier.wait()
        reports.append(scheduler.run_once(now))
        reports.append(scheduler.run_once(now + timedelta(seconds=30)))

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    fired = [job_id for r in reports for job_id in _started(r, "twice")]
    assert len(fired) == 1
    assert wait_done(sync, fired[0]).status == JobStatus.SUCCEEDED
    assert [j.id for j in sync.list("twice")] == fired
    sources.delete("twice")


def test_a_schedule_that_cannot_fire_never_stops_the_others(
    rt: Runtime, app: Celery, sources: DataSourceService, sync: SyncService, tmp_path: Path
) -> None:
    """A schedule stored before validation computed next runs (Feb 30) is logged and skipped;
    every other source's schedule and the dead-job sweep still run in that tick."""
    write_files(tmp_path, 2)
    bad = sources.create(scripted_spec("feb30", tmp_path))
    good = sources.create(scripted_spec("everyfive", tmp_path, schedule="*/5 * * * *"))
    store = sync.store
    doc, seq_no, term = store.source_doc(bad.id)
    assert store.replace_source({**doc, "schedule": "0 0 30 2 *"}, seq_no, term)
    scheduler = Scheduler(rt, app)
    report = scheduler.run_once(due_at("*/5 * * * *", good.created_at) + timedelta(seconds=2))
    assert report.ran
    [job_id] = _started(report, "everyfive")
    assert _started(report, "feb30") == []
    assert wait_done(sync, job_id).status == JobStatus.SUCCEEDED
    sources.delete("feb30")
    sources.delete("everyfive")
