"""Runs one sync job in a worker: lock, claim, crawl, watch, finish.

The run enumerates the source and sends its batches to batch workers (``sync_engine.fanout``);
it counts and checkpoints them in order, so everything below holds for a fanned-out sync too.

State machine: queued → running → succeeded | failed | stopped. One run per data source holds
a Redis lock, renewed while the run lives; if the worker dies the lock expires and the task
re-enqueued by the sweep (or redelivered by the broker, late acks) claims the job again as
attempt N+1 and resumes from the job's last saved checkpoint, up to ``sync_max_attempts``.
Writes are idempotent, so replaying items after that checkpoint neither duplicates nor loses
documents.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import redis

from connectors.models import SyncMode
from search.errors import NotFound, SearchError
from search.runtime import Runtime
from sync_engine.crawl import Crawl
from sync_engine.datasources import connector_for
from sync_engine.fanout import SendBatch
from sync_engine.locks import RedisLock, redis_client, run_lock
from sync_engine.models import JobStatus
from sync_engine.patient import patient_runtime, patient_store
from sync_engine.retry import service_of, transient
from sync_engine.store import SyncStore

log = logging.getLogger(__name__)


class _Verdict(Exception):
    """The watch loop's decision to stop watching, with the status to report."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


class LockBusy(Exception):
    """Another live run holds the data source's lock: try again in ``retry_in_s`` seconds."""

    def __init__(self, job_id: str, retry_in_s: float) -> None:
        super().__init__(f"sync lock for job {job_id} is held; retry in {retry_in_s:.1f} s")
        self.job_id = job_id
        self.retry_in_s = retry_in_s


@dataclass
class RunOutcome:
    job_id: str
    status: str
    """The job's final status, or ``skipped`` when there was nothing to run."""
    attempts: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_job(
    runtime: Runtime,
    job_id: str,
    worker_name: str,
    send: SendBatch,
    after_wait: bool = False,
) -> RunOutcome:
    """Run (or resume) the job; ``LockBusy`` when its source's lock is held.

    ``send`` puts a batch on the batch queue: the run enumerates, batch workers write.

    The first delivery that finds the lock held waits until that lock would expire: a dead
    owner's lock lapses by then. If it is held again ``after_wait``, its owner renewed it
    (or a newer run took it), so the job runs under a live owner and this delivery is a
    duplicate: dropped, not retried forever.
    """
    store = patient_store(runtime)
    try:
        job = store.job(job_id)
    except NotFound:
        log.warning("sync task for an unknown job", extra={"job_id": job_id})
        return RunOutcome(job_id, "skipped")
    if not job.status.active:
        log.info(
            "sync delivery for a finished job ignored",
            extra={"job_id": job_id, "status": job.status.value},
        )
        return RunOutcome(job_id, "skipped", job.attempts)
    lock = run_lock(runtime.settings, job.data_source_id)
    if not lock.acquire():
        if after_wait:
            log.info(
                "duplicate sync delivery dropped: the job runs under a live owner",
                extra={
                    "job_id": job_id,
                    "worker": job.worker,
                    "heartbeat_at": job.heartbeat_at.isoformat() if job.heartbeat_at else None,
                },
            )
            return RunOutcome(job_id, "skipped", job.attempts)
        raise LockBusy(job_id, max(0.5, lock.remaining_ms() / 1000 + 0.5))
    try:
        # ``execute`` returns only once no thread of this run can write any more.
        return _Run(runtime, store, lock, job_id, worker_name, send).execute()
    finally:
        lock.release()


class _Run:
    def __init__(
        self,
        runtime: Runtime,
        store: SyncStore,
        lock: RedisLock,
        job_id: str,
        worker: str,
        send: SendBatch,
    ) -> None:
        self.runtime = patient_runtime(runtime)
        self.store = store
        quick_timeout = max(0.5, min(5.0, runtime.settings.sync_lock_ttl_s / 3))
        self.quick = SyncStore(runtime.es.options(request_timeout=quick_timeout), runtime.settings)
        """The watch loop's store: fails fast, so a stalled Elasticsearch never delays renewing
        the lock (the crawl's ``store`` is the patient one)."""
        self.lock = lock
        self.job_id = job_id
        self.worker = worker
        self.send = send
        self.token = uuid.uuid4().hex
        settings = runtime.settings
        self.timeout_s = settings.sync_heartbeat_timeout_s
        self.max_attempts = settings.sync_max_attempts
        self.tick_s = max(0.1, min(1.0, settings.sync_lock_ttl_s / 4))
        beat_bound = min(self.timeout_s, settings.sync_stalled_after_s) / 3
        self.beat_every_s = max(self.tick_s, min(30.0, beat_bound))

    def execute(self) -> RunOutcome:
        job = self.store.job(self.job_id)  # again, now that the lock is ours
        if not job.status.active:
            return RunOutcome(self.job_id, "skipped", job.attempts)
        first = job.status == JobStatus.QUEUED
        if not first and job.attempts >= self.max_attempts:
            return self._fail_exhausted(job.attempts, job.worker)
        if first and job.mode != SyncMode.FORCED_FULL:
            # The job starts from the source's last good checkpoint (FULL passes it too: the
            # connector may diff against it), and every attempt resumes from the job's own.
            initial = self.store.good_checkpoint(job.data_source_id)
            if initial is not None:
                self.store.save_job_checkpoint(job, initial, {}, datetime.now(UTC).isoformat())
        if not self.store.claim(self.job_id, self.token, self.worker, datetime.now(UTC)):
            return RunOutcome(self.job_id, "skipped", job.attempts)  # stopped while queued
        job = self.store.job(self.job_id)
        _, saved = self.store.job_checkpoint(self.job_id)
        log.info(
            "sync job running",
            extra={
                "job_id": job.id,
                "data_source_id": job.data_source_id,
                "mode": job.mode.value,
                "attempt": job.attempts,
                "worker": self.worker,
                "resumed": not first,
            },
        )
        try:
            source = self.store.source_doc(job.data_source_id)[0]
            connector = connector_for(source["type"], source["config"], job.data_source_id)
        except SearchError as exc:
            self.store.update_if(
                self.job_id,
                "running",
                self.token,
                {
                    "status": "failed",
                    "error": exc.message,
                    "finished_at": datetime.now(UTC).isoformat(),
                },
            )
            return RunOutcome(self.job_id, JobStatus.FAILED.value, job.attempts)
        interruptions = 0
        shown = job.stats.model_dump(mode="json")
        while True:
            crawl = Crawl(
                self.runtime,
                self.store,
                job,
                self.token,
                connector,
                saved,
                shown,
                lock=self.lock,
                send=self.send,
            )
            if job.stop_requested:
                crawl.stop_requested.set()
            thread = threading.Thread(target=crawl.run, name=f"sync-{job.id}", daemon=True)
            thread.start()
            try:
                status = self._watch(thread, crawl)
            finally:
                self._quiesce(thread, crawl)
            if crawl.interrupted is None or status != "interrupted":
                return RunOutcome(self.job_id, status, job.attempts)
            interruptions += 1
            cause = crawl.interrupted
            if interruptions > self.runtime.settings.sync_infra_resumes or not self._await_backends(
                cause
            ):
                return self._fail_infra(cause, interruptions)
            # Resume from the last checkpoint, in this task, under the same lock and token.
            job = self.store.job(self.job_id)
            _, saved = self.store.job_checkpoint(self.job_id)
            shown = {
                k: max(v, crawl.progress.floor.model_dump()[k])
                for k, v in job.stats.model_dump(mode="json").items()
            }
            log.warning(
                "sync job resumes from its checkpoint after an infrastructure fault",
                extra={"job_id": self.job_id, "interruption": interruptions},
            )

    def _fail_exhausted(self, attempts: int, last_worker: str | None) -> RunOutcome:
        """Every attempt so far died without finishing (a redelivered task): stop retrying."""
        token = self.store.job_doc(self.job_id).get("run_token")
        message = (
            f"gave up after {attempts} attempts: each ended without finishing, the last on "
            f"worker {last_worker} (the last checkpoint is kept)"
        )
        fields = {
            "status": "failed",
            "error": message,
            "finished_at": datetime.now(UTC).isoformat(),
        }
        if not self.store.update_if(self.job_id, "running", token, fields):
            return RunOutcome(self.job_id, "skipped", attempts)
        log.error("sync job out of attempts", extra={"job_id": self.job_id, "attempts": attempts})
        return RunOutcome(self.job_id, JobStatus.FAILED.value, attempts)

    def _watch(self, thread: threading.Thread, crawl: Crawl) -> str:
        """Keep the lock and heartbeat alive, relay stop requests, fail a stalled connector."""
        last_beat = time.monotonic()
        while True:
            thread.join(self.tick_s)
            if not thread.is_alive():
                if crawl.interrupted is not None:
                    return "interrupted"
                return crawl.result.value if crawl.result else "lost"
            if not self._keep_lock():
                log.error("sync lock lost to another run", extra={"job_id": self.job_id})
                crawl.aborted.set()
                return "lost"
            crawl.fanout.renew()
            try:
                if self._poll(crawl, last_beat):
                    last_beat = time.monotonic()
            except _Verdict as verdict:
                return verdict.status
            except Exception as exc:
                if not transient(exc):
                    raise
                # Elasticsearch briefly away: keep the lock, the crawl waits it out patiently.
                log.warning(
                    "sync watch could not reach Elasticsearch",
                    extra={"job_id": self.job_id, "error": str(exc)[:300]},
                )

    def _poll(self, crawl: Crawl, last_beat: float) -> bool:
        """One look at the job's control fields; True when a heartbeat was written."""
        control = self.quick.job_control(self.job_id)
        if control.get("status") != "running" or control.get("run_token") != self.token:
            crawl.aborted.set()
            raise _Verdict(str(control.get("status", "lost")))
        if control.get("stop_requested"):
            crawl.stop_requested.set()
        if crawl.waited_s() > self.timeout_s:
            raise _Verdict(self._fail_stalled(crawl))
        if time.monotonic() - last_beat >= self.beat_every_s:
            self.quick.update_running(
                self.job_id, self.token, {"heartbeat_at": datetime.now(UTC).isoformat()}
            )
            return True
        return False

    def _quiesce(self, thread: threading.Thread, crawl: Crawl) -> None:
        """Stop the crawl and wait until it can write no more, renewing the lock meanwhile.

        The crawl checks ``aborted`` before every write, so a thread blocked on the connector
        (waiting for its next item) cannot write again; one inside a write is waited for.
        """
        crawl.aborted.set()
        while thread.is_alive() and (crawl.waiting_since is None or crawl.collecting):
            thread.join(self.tick_s)
            self._keep_lock()

    def _await_backends(self, cause: BaseException) -> bool:
        """Wait (holding the lock) until Elasticsearch and Redis answer again."""
        deadline = time.monotonic() + self.runtime.settings.sync_infra_wait_s
        pause = 0.5
        while time.monotonic() < deadline:
            self._keep_lock()
            try:
                self.quick.job_control(self.job_id)
                redis_client(self.runtime.settings).ping()
                return True
            except Exception as exc:
                if not transient(exc) and not isinstance(exc, redis.RedisError):
                    raise
            time.sleep(pause)
            pause = min(5.0, pause * 2)
        log.error(
            "backends did not come back", extra={"job_id": self.job_id, "error": str(cause)[:300]}
        )
        return False

    def _fail_infra(self, cause: BaseException, interruptions: int) -> RunOutcome:
        """Out of resumes: fail loudly, naming the service and what happened to it."""
        service = service_of(cause)
        message = (
            f"{service} failed {interruptions} time(s) during the sync and the job gave up: "
            f"{cause} (the last checkpoint is kept; the next sync resumes from it)"
        )
        fields = {
            "status": "failed",
            "error": message,
            "finished_at": datetime.now(UTC).isoformat(),
        }
        try:
            self.store.update_running(self.job_id, self.token, fields, refresh="true")
        except Exception:  # still down: the sweep fails or resumes the job later
            log.exception("could not record the failure", extra={"job_id": self.job_id})
        log.error("sync job failed by the infrastructure", extra={"job_id": self.job_id})
        return RunOutcome(self.job_id, JobStatus.FAILED.value, 0)

    def _keep_lock(self) -> bool:
        """Renew the lease; if Redis forgot it (restart) and nobody took it, take it back."""
        if self.lock.renew():
            return True
        try:
            return self.lock.acquire()
        except SearchError:  # Redis unreachable: keep going, the next tick tries again
            return True

    def _fail_stalled(self, crawl: Crawl) -> str:
        """The connector yielded nothing for too long: fail loudly and abandon its thread."""
        crawl.aborted.set()
        message = (
            f"no progress for {self.timeout_s:g} s: the connector yielded nothing "
            "(the last checkpoint is kept)"
        )
        self.store.update_running(
            self.job_id,
            self.token,
            {
                **crawl.progress.snapshot(),
                "status": "failed",
                "error": message,
                "finished_at": datetime.now(UTC).isoformat(),
            },
            refresh="true",
        )
        log.error(
            "sync job stalled",
            extra={"job_id": self.job_id, "timeout_s": self.timeout_s, "worker": self.worker},
        )
        return JobStatus.FAILED.value
