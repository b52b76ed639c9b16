"""Quarry's sync scheduler: ``python -m worker.scheduler [--tick SECONDS]``.

A small loop instead of Celery beat, because schedules live in data sources (in
Elasticsearch) and must apply without a restart: every tick re-reads them, starts the syncs
that are due (missed firings collapse into one), and sweeps jobs whose worker died (resumed
on another worker, or failed once out of attempts). A Redis
lock around each tick means two schedulers never fire the same schedule twice.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import FrameType
from typing import Any

from celery import Celery
from croniter import croniter

from connectors.models import SyncMode
from search.errors import Conflict, NotFound
from search.logs import configure_logging
from search.runtime import Runtime
from sync_engine.jobs import SyncService
from sync_engine.locks import RedisLock, key, redis_client
from sync_engine.models import SyncJob

log = logging.getLogger(__name__)

DEFAULT_TICK_S = 5.0


@dataclass
class TickReport:
    ran: bool = True
    """False when another scheduler held the tick lock."""
    started: list[SyncJob] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Data sources that were due but still had an active job."""
    swept: list[SyncJob] = field(default_factory=list)
    """Jobs the sweep failed: out of attempts, or never picked up by a worker."""
    resumed: list[SyncJob] = field(default_factory=list)
    """Jobs whose worker died, re-enqueued by the sweep to resume on another worker."""


def _utc(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def due_at(schedule: str, since: datetime) -> datetime:
    """The first firing of ``schedule`` (cron, UTC) strictly after ``since``."""
    return croniter(schedule, since.astimezone(UTC)).get_next(datetime)  # type: ignore[no-any-return]


def latest_firing(schedule: str, now: datetime, due: datetime) -> datetime:
    """The most recent firing at or before ``now``; what ``last_scheduled_at`` records."""
    previous: datetime = croniter(schedule, now.astimezone(UTC)).get_prev(datetime)
    return max(due, previous)


class Scheduler:
    def __init__(self, runtime: Runtime, celery_app: Celery, tick_s: float = DEFAULT_TICK_S):
        self.runtime = runtime
        self.sync = SyncService(runtime, celery_app)
        self.store = self.sync.store
        self.tick_s = tick_s

    def run_once(self, now: datetime | None = None) -> TickReport:
        """One tick: start the due syncs, then sweep dead jobs. ``now`` is injectable for tests."""
        now = now or datetime.now(UTC)
        settings = self.runtime.settings
        lock = RedisLock(
            redis_client(settings), key(settings, "scheduler"), max(30.0, 3 * self.tick_s)
        )
        if not lock.acquire():
            return TickReport(ran=False)
        report = TickReport()
        try:
            for source in self.store.list_sources():
                try:
                    self._consider(source, now, report)
                except Exception:  # one source's schedule never stops the others or the sweep
                    log.exception(
                        "schedule of a data source failed",
                        extra={
                            "data_source_id": source.get("id"),
                            "schedule": source.get("schedule"),
                        },
                    )
            swept = self.sync.sweep(now)
            report.swept, report.resumed = swept.failed, swept.resumed
        finally:
            lock.release()
        return report

    def _consider(self, source: dict[str, Any], now: datetime, report: TickReport) -> None:
        schedule = source.get("schedule")
        state = source.get("state") or {}
        if not schedule or not source.get("enabled", True) or state.get("deleting"):
            return
        since = _utc(state.get("last_scheduled_at") or source["created_at"])
        due = due_at(schedule, since)
        if due > now:
            return
        source_id = source["id"]
        try:
            # An incremental sync of a never-synced source runs as a full one (SyncService).
            job = self.sync.start(source_id, SyncMode.INCREMENTAL, trigger="schedule")
            report.started.append(job)
        except Conflict as exc:
            report.skipped.append(source_id)
            log.info(
                "scheduled sync skipped", extra={"data_source_id": source_id, "reason": exc.message}
            )
        except NotFound:
            return  # deleted since the listing
        except Exception:  # not recorded as fired: the next tick tries again
            log.exception("scheduled sync could not start", extra={"data_source_id": source_id})
            return
        fired = latest_firing(schedule, now, due)
        self.store.set_state(source_id, {"last_scheduled_at": fired.isoformat()}, refresh="true")

    def run_forever(self, stop: threading.Event) -> None:
        log.info("scheduler started", extra={"tick_s": self.tick_s})
        while not stop.is_set():
            try:
                report = self.run_once()
                if report.started or report.swept or report.resumed:
                    log.info(
                        "scheduler tick",
                        extra={
                            "started": [j.id for j in report.started],
                            "swept": [j.id for j in report.swept],
                            "resumed": [j.id for j in report.resumed],
                        },
                    )
            except Exception:  # Elasticsearch or Redis briefly away: try again next tick
                log.exception("scheduler tick failed")
            stop.wait(self.tick_s)
        log.info("scheduler stopped")


def run_once(now: datetime, runtime: Runtime, celery_app: Celery) -> TickReport:
    """A single tick with explicit dependencies (tests, cron-style one-shot runs)."""
    return Scheduler(runtime, celery_app).run_once(now)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m worker.scheduler", description=__doc__)
    parser.add_argument("--tick", type=float, default=DEFAULT_TICK_S, help="seconds between ticks")
    parser.add_argument("--once", action="store_true", help="run one tick and exit")
    args = parser.parse_args(argv)
    if args.tick <= 0:
        parser.error("--tick must be positive")
    configure_logging()
    from worker.app import create_app

    runtime = Runtime()
    scheduler = Scheduler(runtime, create_app(runtime.settings), args.tick)
    if args.once:
        scheduler.run_once()
        return
    stop = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    scheduler.run_forever(stop)


if __name__ == "__main__":
    main()
