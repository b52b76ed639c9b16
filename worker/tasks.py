"""Thin Celery tasks: arguments are ids and JSON, the work happens in the search core."""

from __future__ import annotations

import os
import time
from typing import Any

from celery import Task
from celery.signals import setup_logging, worker_init, worker_process_init, worker_process_shutdown

from connectors.models import Document
from search import metrics
from search.logs import configure_logging, log_context
from search.runtime import Runtime
from sync_engine.batches import BATCH_TASK, run_batch
from sync_engine.jobs import SYNC_TASK
from sync_engine.runner import LockBusy, run_job
from worker import metrics as worker_metrics
from worker.app import app

_runtime: Runtime | None = None


def runtime() -> Runtime:
    global _runtime
    if _runtime is None:
        _runtime = Runtime()
    return _runtime


@setup_logging.connect
def _json_logs(**_: Any) -> None:
    # Connecting this signal stops Celery from installing its own plain-text handlers.
    configure_logging(os.environ.get("QUARRY_LOG_LEVEL", "INFO"))


@worker_process_init.connect
def _fresh_runtime(**_: Any) -> None:
    # Clients must not be shared across fork: every worker process builds its own.
    global _runtime
    _runtime = None
    if runtime().settings.worker_warm_up:
        runtime().embedder.warm_up()


@worker_init.connect
def _serve_metrics(**_: Any) -> None:
    # Celery's main process serves every child's metrics (multiprocess mode).
    settings = runtime().settings
    worker_metrics.serve(settings, [settings.task_queue, settings.batch_queue])


@worker_process_shutdown.connect
def _forget_process(pid: int | None = None, **_: Any) -> None:
    metrics.process_exited(pid or os.getpid())


@app.task(name="quarry.ping")
def ping() -> dict[str, Any]:
    """Proves a real worker process is consuming: answers with its pid."""
    return {"pong": True, "pid": os.getpid()}


@app.task(name="quarry.index_documents")
def index_documents(data_source_id: str, documents: list[dict[str, Any]]) -> dict[str, Any]:
    """Index documents given as JSON (text bodies) straight through the ingestion pipeline."""
    rt = runtime()
    docs = [Document.model_validate(d) for d in documents]
    stats = rt.pipeline.write_batch(data_source_id, docs)
    rt.writer.refresh()
    return {
        "added": stats.added,
        "modified": stats.modified,
        "unchanged": stats.unchanged,
        "failed": stats.failed,
        "passages": stats.passages,
    }


LOCK_WAITS = 1


@app.task(name=SYNC_TASK, bind=True, max_retries=LOCK_WAITS)
def sync(self: Task, job_id: str) -> dict[str, Any]:
    """Run or resume one sync job.

    A delivery that finds the source's lock held waits (once) until it would expire, so a
    dead owner's job is resumed and a live owner's duplicate is dropped (``run_job``).
    """
    started = time.perf_counter()
    status = "error"
    metrics.JOBS_RUNNING.inc()
    try:
        with log_context(job_id=job_id, task_id=self.request.id):
            outcome = run_job(
                runtime(),
                job_id,
                worker_name=str(self.request.hostname or os.getpid()),
                send=send_batch,
                after_wait=self.request.retries >= LOCK_WAITS,
            )
        status = outcome.status
    except LockBusy as busy:
        status = "lock_busy"
        # The retry is a new message; the job is already claimed, so it must not expire.
        raise self.retry(countdown=busy.retry_in_s, expires=None) from None
    finally:
        metrics.JOBS_RUNNING.dec()
        metrics.JOBS_FINISHED.labels(status).inc()
        metrics.JOB_DURATION.labels(status).observe(time.perf_counter() - started)
    return outcome.as_dict()


def send_batch(message: dict[str, Any]) -> None:
    """Put one of a sync's batches on the batch queue (``sync_batch`` below consumes it)."""
    app.send_task(BATCH_TASK, args=[message], queue=runtime().settings.batch_queue)


@app.task(name=BATCH_TASK, bind=True)
def sync_batch(self: Task, message: dict[str, Any]) -> dict[str, Any]:
    """Extract, embed and write one batch of a sync (late ack: a dead worker's batch returns)."""
    with log_context(job_id=message.get("job_id"), task_id=self.request.id):
        return run_batch(runtime(), message)
