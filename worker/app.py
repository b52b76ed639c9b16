"""The Celery application: Redis broker and result backend, JSON only, late acks, prefetch 1.

Two queues: ``Settings.task_queue`` for sync runs (and small tasks), ``Settings.batch_queue``
for a sync's batch tasks. Runner workers consume the first (``-Q quarry-tasks``), any number of
batch workers on any machines the second (``-Q quarry-batches``); never one process both, or a
runner waiting for its batches could hold the only slot that would run them.

Late acknowledgement plus idempotent writes is what makes a worker killed mid-task safe: the
broker hands the task to another worker and the replay rewrites the same documents.
"""

from __future__ import annotations

from celery import Celery

from search.settings import Settings
from sync_engine.batches import BATCH_TASK


def _transport_options(visibility_timeout_s: float) -> dict[str, float]:
    # Kombu scans for expired unacked tasks every interval x throttle seconds (100 s by default).
    return {
        "visibility_timeout": visibility_timeout_s,
        "unacked_restore_interval": max(1, min(10, int(visibility_timeout_s // 4))),
        "unacked_restore_throttle": 1,
    }


def create_app(settings: Settings | None = None) -> Celery:
    settings = settings or Settings()
    app = Celery(
        "quarry", broker=settings.redis_url, backend=settings.redis_url, include=["worker.tasks"]
    )
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_track_started=True,
        result_expires=24 * 3600,
        broker_connection_retry_on_startup=True,
        # A task unacked for this long (its worker died) is re-delivered to another worker; a
        # sync re-delivered while its first run still lives waits once for the lock and is then dropped.
        broker_transport_options=_transport_options(settings.broker_visibility_timeout_s),
        result_backend_transport_options=_transport_options(settings.broker_visibility_timeout_s),
        worker_hijack_root_logger=False,
        timezone="UTC",
        enable_utc=True,
        task_default_queue=settings.task_queue,
        # A sync's batches wait on a queue of their own: batch workers never hold up the
        # runners (whose tasks wait on the batches), and a big sync never starves a schedule.
        task_routes={BATCH_TASK: {"queue": settings.batch_queue}},
    )
    return app


app = create_app()
