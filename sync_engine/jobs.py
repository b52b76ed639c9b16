"""Sync jobs as the API and the scheduler see them: start, stop, history, and the dead-job sweep.

Starting a job is serialised per data source by a short Redis lock, and the check for an
active job reads the source's ``active_job_id`` and that job in real time, so two concurrent
starts can never both create a job, whatever Elasticsearch's refresh cycle is doing.
"""

from __future__ import annotations

import builtins
import logging
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from celery import Celery

from connectors.models import SyncMode
from search.errors import BackendUnavailable, BadRequest, Conflict
from search.runtime import Runtime
from sync_engine.datasources import START_LOCK_WAIT_S, active_job
from sync_engine.locks import run_lock, start_lock
from sync_engine.models import JobStatus, SyncJob
from sync_engine.store import SyncStore

log = logging.getLogger(__name__)

SYNC_TASK = "quarry.sync"
"""The Celery task that runs a sync job; worker/tasks.py registers it under this name."""
TRIGGER = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
MAX_LIST = 1000


@dataclass
class SweepReport:
    resumed: builtins.list[SyncJob] = field(default_factory=list)
    """Running jobs whose worker died, re-enqueued to resume from their checkpoint."""
    failed: builtins.list[SyncJob] = field(default_factory=list)
    """Jobs out of attempts, or never picked up by a worker."""
    requeued: builtins.list[str] = field(default_factory=list)
    """Queued jobs enqueued again (their task message may have been lost)."""


class SyncService:
    def __init__(self, runtime: Runtime, celery_app: Celery) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.app = celery_app
        self.store = SyncStore(runtime.es, runtime.settings)

    def start(self, data_source_id: str, mode: SyncMode, trigger: str = "manual") -> SyncJob:
        """Queue a job; Conflict if the source already has a queued or running one.

        An incremental sync of a source without a successful sync yet runs as a full one.
        """
        if not TRIGGER.match(trigger):
            raise BadRequest(
                "trigger must be a short lowercase word such as 'manual' or 'schedule'"
            )
        lock = start_lock(self.settings, data_source_id)
        if not lock.acquire(wait_s=START_LOCK_WAIT_S):
            raise Conflict(f"another sync of {data_source_id!r} is being started")
        try:
            source, _, _ = self.store.source_doc(data_source_id)
            state = source.get("state") or {}
            if state.get("deleting"):
                raise Conflict(f"data source {data_source_id!r} is being deleted")
            if not source.get("enabled", True):
                raise Conflict(f"data source {data_source_id!r} is disabled")
            running = active_job(self.store, source)
            if running is not None:
                raise Conflict(
                    f"data source {data_source_id!r} already has a {running.status.value} "
                    f"sync job ({running.id})"
                )
            if mode == SyncMode.INCREMENTAL and not state.get("checkpoint_job_id"):
                mode = SyncMode.FULL
            job = SyncJob(
                id=uuid.uuid4().hex,
                data_source_id=data_source_id,
                mode=mode,
                status=JobStatus.QUEUED,
                trigger=trigger,
                created_at=datetime.now(UTC),
            )
            self.store.create_job(job)
            self.store.set_state(data_source_id, {"active_job_id": job.id})
        finally:
            lock.release()
        try:
            self.app.send_task(SYNC_TASK, args=[job.id], expires=self.settings.sync_queue_timeout_s)
        except Exception as exc:
            self._give_up(job.id, "queued", None, f"could not queue the sync task: {exc}")
            raise BackendUnavailable(f"could not queue the sync task: {exc}") from exc
        log.info(
            "sync job queued",
            extra={
                "job_id": job.id,
                "data_source_id": data_source_id,
                "mode": mode.value,
                "trigger": trigger,
            },
        )
        return job

    def stop(self, job_id: str) -> SyncJob:
        """Ask a job to stop at its next item boundary (a queued job stops at once)."""
        if not self.store.request_stop(job_id, datetime.now(UTC)):
            job = self.store.job(job_id)
            raise Conflict(f"sync job {job_id} has already finished ({job.status.value})")
        log.info("sync job stop requested", extra={"job_id": job_id})
        return self.store.job(job_id)

    def get(self, job_id: str) -> SyncJob:
        return self._shown(self.store.job(job_id))

    def _shown(self, job: SyncJob) -> SyncJob:
        return job.with_liveness(self.settings.sync_stalled_after_s)

    def list(self, data_source_id: str, limit: int = 20) -> builtins.list[SyncJob]:
        """The source's job history, newest first (checkpoints left out)."""
        if not 1 <= limit <= MAX_LIST:
            raise BadRequest(f"limit must be between 1 and {MAX_LIST}")
        self.store.source_doc(data_source_id)  # NotFound for an unknown source
        return [self._shown(j) for j in self.store.list_jobs(data_source_id, limit)]

    def active(self, data_source_id: str) -> SyncJob | None:
        source, _, _ = self.store.source_doc(data_source_id)
        job = active_job(self.store, source)
        return None if job is None else self._shown(job)

    def sweep(self, now: datetime | None = None) -> SweepReport:
        """Resume jobs whose worker died, and fail those out of attempts or never picked up.

        A running job is dead when its heartbeat is older than ``sync_heartbeat_timeout_s``
        and nobody holds its source's lock (a live run renews it every few seconds; a live but
        stalled one is failed by its own watchdog). Redis would redeliver its unacked task only
        after the broker's visibility timeout, so the sweep re-enqueues it now, until it has
        had ``sync_max_attempts`` attempts (a poison item must not kill workers forever).
        """
        now = now or datetime.now(UTC)
        settings = self.settings
        dead_after = min(settings.sync_heartbeat_timeout_s, settings.sync_stalled_after_s)
        cutoff = now - timedelta(seconds=dead_after)
        report = SweepReport()
        running = self.store.find_jobs(
            {
                "bool": {
                    "filter": [
                        {"term": {"status": "running"}},
                        {"range": {"heartbeat_at": {"lt": cutoff.isoformat()}}},
                    ]
                }
            }
        )
        for doc in running:
            fresh = self.store.job_doc(doc["id"])  # the search may lag behind the heartbeat
            beat = fresh.get("heartbeat_at")
            if fresh.get("status") != "running" or (
                beat and datetime.fromisoformat(beat) >= cutoff
            ):
                continue
            # Checked after the read: a run that claimed the job since holds the lock now, and
            # one that claims it later changes the token the resume is conditional on.
            if run_lock(self.settings, doc["data_source_id"]).held():
                continue  # a live run: its own watchdog judges its progress
            self._revive(fresh, now, report)
        queued_cutoff = now - timedelta(seconds=self.settings.sync_queue_timeout_s)
        queued = self.store.find_jobs(
            {
                "bool": {
                    "filter": [
                        {"term": {"status": "queued"}},
                        {"range": {"created_at": {"lt": queued_cutoff.isoformat()}}},
                    ]
                }
            }
        )
        for doc in queued:
            message = f"not picked up by a worker within {self.settings.sync_queue_timeout_s:g} s"
            if self._give_up(doc["id"], "queued", None, message, now):
                report.failed.append(self.store.job(doc["id"]))
        self._requeue_waiting(now, report)
        return report

    def _requeue_waiting(self, now: datetime, report: SweepReport) -> None:
        """Enqueue again the jobs queued for longer than ``sync_requeue_after_s``.

        Their message may be gone (Redis restarted empty). If it was not, the first delivery
        claims the job and the other finds it running under a live owner and is dropped.
        """
        interval = timedelta(seconds=self.settings.sync_requeue_after_s)
        waiting = self.store.find_jobs(
            {
                "bool": {
                    "filter": [
                        {"term": {"status": "queued"}},
                        {"range": {"created_at": {"lt": (now - interval).isoformat()}}},
                    ]
                }
            }
        )
        for doc in waiting:
            if not self.store.mark_requeued(doc["id"], now - interval, now):
                continue
            try:
                self.app.send_task(
                    SYNC_TASK, args=[doc["id"]], expires=self.settings.sync_queue_timeout_s
                )
            except Exception:  # the broker is away: the next tick tries again
                log.exception("could not enqueue a waiting job again", extra={"job_id": doc["id"]})
                continue
            log.warning("queued sync job enqueued again", extra={"job_id": doc["id"]})
            report.requeued.append(doc["id"])

    def _revive(self, doc: dict[str, Any], now: datetime, report: SweepReport) -> None:
        """Re-enqueue a dead job from its checkpoint, or fail it once it is out of attempts."""
        job_id: str = doc["id"]
        token: str | None = doc.get("run_token")
        queue_timeout = self.settings.sync_queue_timeout_s
        if token is None:  # re-enqueued earlier and not claimed yet: it waits like a queued job
            resumed_at = doc.get("resumed_at")
            waiting_since = now - timedelta(seconds=queue_timeout)
            if not resumed_at or datetime.fromisoformat(resumed_at) <= waiting_since:
                error = (
                    "re-enqueued after its worker died, but not picked up by a worker within "
                    f"{queue_timeout:g} s (the last checkpoint is kept)"
                )
                self._fail_dead(job_id, None, error, now, report)
            return
        attempts = int(doc.get("attempts") or 0)
        if attempts >= self.settings.sync_max_attempts:
            error = (
                f"gave up after {attempts} attempts: worker {doc.get('worker')} stopped "
                f"heartbeating for {self.settings.sync_heartbeat_timeout_s:g} s and never came "
                "back (the last checkpoint is kept)"
            )
            self._fail_dead(job_id, token, error, now, report)
            return
        if not self.store.mark_resumed(job_id, token, now):
            return  # another sweeper or a redelivered task got there first
        try:
            self.app.send_task(SYNC_TASK, args=[job_id], expires=queue_timeout)
        except Exception as exc:
            self._fail_dead(job_id, None, f"could not re-enqueue the sync task: {exc}", now, report)
            return
        log.warning(
            "sync job re-enqueued after its worker died",
            extra={"job_id": job_id, "worker": doc.get("worker"), "attempts": attempts},
        )
        report.resumed.append(self.store.job(job_id))

    def _fail_dead(
        self, job_id: str, token: str | None, error: str, now: datetime, report: SweepReport
    ) -> None:
        if self._give_up(job_id, "running", token, error, now):
            report.failed.append(self.store.job(job_id))

    def _give_up(
        self, job_id: str, status: str, token: str | None, error: str, now: datetime | None = None
    ) -> bool:
        fields: dict[str, Any] = {
            "status": "failed",
            "error": error,
            "finished_at": (now or datetime.now(UTC)).isoformat(),
        }
        done = self.store.update_if(job_id, status, token, fields)
        if done:
            log.error("sync job failed by the engine", extra={"job_id": job_id, "error": error})
        return done
