"""One attempt at a sync job: the connector's crawl, fanned out as batch tasks.

The crawl enumerates in order and hands each batch to ``Fanout``, which sends it to the batch
queue (extraction, embedding and writing run on batch workers) and applies the results in
order: progress and checkpoints only ever count batches that are written. Deletions of what a
complete listing did not see happen after every batch is written.

Runs in its own thread so that the runner's watchdog can give up on a connector that stopped
yielding. Every write to the job document is conditional on this attempt's run token: once the
watchdog, the scheduler's sweep or a newer attempt has taken the job over, the next write
fails and the crawl stops without touching anything else.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from connectors.base import Connector, CrawlLimits
from connectors.errors import ConnectorError
from connectors.models import Checkpoint, CrawlItem, SyncMode
from search.pipeline import MAX_FAILURE_SAMPLES, BatchStats
from search.prefetch import prefetched
from search.purge import delete_matching
from search.runtime import Runtime
from sync_engine.batches import Journal, item_bytes
from sync_engine.fanout import Fanout, SendBatch
from sync_engine.locks import RedisLock
from sync_engine.models import ItemError, JobStats, JobStatus, SyncJob
from sync_engine.retry import transient
from sync_engine.store import SyncStore

log = logging.getLogger(__name__)

FULL_MODES = (SyncMode.FULL, SyncMode.FORCED_FULL)


class Aborted(Exception):
    """This attempt no longer owns its job (failed by the watchdog, swept, superseded)."""


def _now() -> str:
    return datetime.now(UTC).isoformat()


class Progress:
    """A job's running totals and samples; shared by the crawl thread and the watchdog."""

    def __init__(
        self, saved: dict[str, Any] | None = None, shown: dict[str, Any] | None = None
    ) -> None:
        saved = saved or {}
        self.floor = JobStats.model_validate(shown or {})
        """What the job showed before this attempt: shown counts never go below it."""
        self.stats = JobStats.model_validate(saved.get("stats") or {})
        self.errors = [ItemError.model_validate(e) for e in saved.get("errors") or []]
        self.deleted_ids: list[str] = list(saved.get("deleted_ids") or [])
        self.failed_ids: set[str] = set(saved.get("failed_ids") or [])
        """Every id that failed in this job: a sweep must not delete what it could not read."""
        self._lock = threading.Lock()

    def add(self, batch: BatchStats) -> None:
        with self._lock:
            s = self.stats
            s.scanned += batch.scanned
            s.added += len(batch.added)
            s.modified += len(batch.modified)
            s.unchanged += len(batch.unchanged)
            s.deleted += len(batch.deleted)
            s.failed += len(batch.failed)
            s.groups += batch.groups
            s.passages += batch.passages
            s.truncated += len(batch.truncated)
            s.metadata_only += len(batch.metadata_only)
            self.failed_ids.update(batch.failed)
            for doc_id, reason in batch.failed.items():
                if len(self.errors) < MAX_FAILURE_SAMPLES:
                    self.errors.append(ItemError(id=doc_id, reason=reason))
            self._sample_deleted(batch.deleted)

    def add_swept(self, sample: list[str], count: int) -> None:
        with self._lock:
            self.stats.deleted += count
            self._sample_deleted(sample)

    def _sample_deleted(self, ids: list[str]) -> None:
        room = MAX_FAILURE_SAMPLES - len(self.deleted_ids)
        if room > 0:
            self.deleted_ids.extend(ids[:room])

    def snapshot(self) -> dict[str, Any]:
        """The job fields that show progress (and what a resumed attempt starts from)."""
        with self._lock:
            shown = self.stats.model_dump(mode="json")
            for name, floor in self.floor.model_dump(mode="json").items():
                shown[name] = max(shown[name], floor)
            return {
                "stats": shown,
                "errors": [e.model_dump(mode="json") for e in self.errors],
                "deleted_ids": list(self.deleted_ids),
                "failed_ids": sorted(self.failed_ids),
            }


class Crawl:
    """Drives ``connector.crawl`` for one attempt of ``job`` under run token ``token``."""

    def __init__(
        self,
        runtime: Runtime,
        store: SyncStore,
        job: SyncJob,
        token: str,
        connector: Connector,
        saved: dict[str, Any] | None,
        shown: dict[str, Any] | None = None,
        *,
        lock: RedisLock,
        send: SendBatch,
    ) -> None:
        self.runtime = runtime
        self.store = store
        self.job = job
        self.token = token
        self.connector = connector
        self.progress = Progress(saved, shown)
        settings = runtime.settings
        self.journal = Journal(store.es, store.checkpoints, job.id, job.data_source_id)
        self.counted: list[str] = []
        """Journaled ids (added, modified) counted since the last saved checkpoint."""
        self.fanout = Fanout(
            settings,
            job_id=job.id,
            data_source_id=job.data_source_id,
            lock=lock,
            send=send,
            apply=self._apply,
            save_checkpoint=self._save_checkpoint,
            check_abort=self._check_abort,
        )
        self.interrupted: BaseException | None = None
        """Elasticsearch or Redis failed for longer than the sync's patience: resume later."""
        self.stop_requested = threading.Event()
        self.aborted = threading.Event()
        self.waiting_since: float | None = None
        """Monotonic time at which the crawl started waiting for the connector's next item."""
        self.collecting = False
        """True while the crawl, waiting for the connector, counts written batches (writes)."""
        self.result: JobStatus | None = None
        self.error: str | None = None
        self._state: dict[str, Any] | None = job.checkpoint

    def waited_s(self) -> float:
        since = self.waiting_since
        return 0.0 if since is None else time.monotonic() - since

    def run(self) -> None:
        """Thread entry point: always ends with ``result`` set (or the job taken over)."""
        try:
            self.result = self._crawl()
        except Aborted:
            log.warning("sync attempt lost its job", extra={"job_id": self.job.id})
        except Exception as exc:
            if transient(exc):  # infrastructure, not the source: the runner resumes the job
                self.interrupted = exc
                log.warning(
                    "sync attempt interrupted by the infrastructure",
                    extra={"job_id": self.job.id, "error": str(exc)[:500]},
                )
                return
            self._failed(exc)
        finally:
            self.fanout.close()

    def _failed(self, exc: Exception) -> None:
        """A systemic failure: fail the job, delete nothing."""
        self.error = str(exc) if isinstance(exc, ConnectorError) else f"{type(exc).__name__}: {exc}"
        log.error(
            "sync job failed",
            extra={
                "job_id": self.job.id,
                "data_source_id": self.job.data_source_id,
                "error": self.error[:500],
            },
            exc_info=not isinstance(exc, ConnectorError),
        )
        self.result = JobStatus.FAILED
        try:
            self._finish(JobStatus.FAILED, self.error)
        except Exception:  # the store is down too: the scheduler's sweep fails the job later
            log.exception("could not record the failure", extra={"job_id": self.job.id})

    def _items(self) -> Iterator[CrawlItem]:
        mode = self.job.mode
        if mode == SyncMode.FORCED_FULL and self._state is not None:
            # Resuming this job's own pass, which already ignored the source's old state.
            mode = SyncMode.FULL
        checkpoint = Checkpoint(state=self._state) if self._state is not None else None
        limits = CrawlLimits(max_content_bytes=self.runtime.settings.max_content_bytes)
        # The connector reads ahead (network) while the pipeline embeds and writes (CPU).
        # While a slow source yields nothing, written batches are still counted (and a due
        # checkpoint saved).
        items = prefetched(
            iter(self.connector.crawl(mode, checkpoint, limits)),
            maxsize=2 * self.runtime.settings.bulk_batch_docs,
            idle=self._collect,
        )
        try:
            while True:
                self._check_abort()
                self.waiting_since = time.monotonic()
                try:
                    item = next(items)
                except StopIteration:
                    return
                finally:
                    self.waiting_since = None
                self._check_abort()
                yield item
        finally:
            items.close()

    def _crawl(self) -> JobStatus:
        batch: list[CrawlItem] = []
        size = 0
        complete = False
        settings = self.runtime.settings
        for item in self._items():
            if isinstance(item, Checkpoint):
                self.fanout.submit(batch)
                batch, size = [], 0
                self.fanout.checkpoint(item)
                complete = item.complete
            else:
                batch.append(item)
                size += item_bytes(item)
                if len(batch) >= settings.bulk_batch_docs or size >= settings.sync_batch_max_bytes:
                    self.fanout.submit(batch)
                    batch, size = [], 0
            if self.stop_requested.is_set():
                self.fanout.submit(batch)
                self.fanout.drain()
                self._finish(JobStatus.STOPPED)
                return JobStatus.STOPPED
        self.fanout.submit(batch)
        self.fanout.drain()  # deletions below need every batch written
        if complete and self.job.mode in FULL_MODES:
            self._sweep_missing()
        if self._state is not None:
            self._check_abort()
            self.store.save_good_checkpoint(self.job.data_source_id, self.job.id, self._state)
            self.store.set_state(
                self.job.data_source_id,
                {"checkpoint_job_id": self.job.id, "last_synced_at": _now()},
            )
        self._finish(JobStatus.SUCCEEDED)
        return JobStatus.SUCCEEDED

    def _check_abort(self) -> None:
        if self.aborted.is_set():
            raise Aborted()

    def _write(self, fields: dict[str, Any], refresh: bool = False) -> None:
        ok = self.store.update_running(
            self.job.id,
            self.token,
            {**fields, "heartbeat_at": _now()},
            refresh="true" if refresh else "false",
        )
        if not ok:
            self.aborted.set()
            raise Aborted()

    def _collect(self) -> None:
        """While waiting for the connector: count written batches. The time this takes (an
        Elasticsearch write that waits out an outage) is not the connector's: the watchdog's
        clock stops meanwhile, and ``waiting_since`` is unset (the thread may write)."""
        self._check_abort()
        since, started = self.waiting_since, time.monotonic()
        self.waiting_since = None
        self.collecting = True
        try:
            self.fanout.poll(0)
        finally:
            self.collecting = False
            if since is not None:
                self.waiting_since = since + (time.monotonic() - started)

    def _apply(self, stats: BatchStats) -> None:
        """A written batch, in order: count it and show the progress."""
        self.progress.add(stats)
        self.counted.extend(stats.added)
        self.counted.extend(stats.modified)
        self._write(self.progress.snapshot())

    def _save_checkpoint(self, checkpoint: Checkpoint) -> None:
        """Progress first (it proves this attempt still owns the job), then the checkpoint."""
        snapshot = self.progress.snapshot()
        now = _now()
        self._write({**snapshot, "checkpoint_at": now})
        self.store.save_job_checkpoint(self.job, checkpoint.state, snapshot, now)
        self._state = checkpoint.state
        self.journal.forget(self.counted)
        self.counted = []

    def _sweep_missing(self) -> None:
        """After a complete full enumeration, delete the source's documents it did not see."""
        self._check_abort()
        failed = sorted(self.progress.failed_ids)
        query = {
            "bool": {
                "filter": [{"term": {"data_source_id": self.job.data_source_id}}],
                "must_not": [{"term": {"sync_job": self.job.id}}]
                + [
                    # A failed item keeps its last copy, and so do the documents hanging under
                    # it (an Alfresco node's comments), which were not re-read either.
                    {"terms": {field: failed[i : i + 10_000]}}
                    for field in ("doc_id", "attr.parent_id")
                    for i in range(0, len(failed), 10_000)
                ],
            }
        }
        deleted, sample = delete_matching(
            self.runtime.es,
            self.runtime.settings.docs_alias,
            query,
            "doc_id",
            MAX_FAILURE_SAMPLES,
        )
        # A group whose members could not be read keeps its last record; if the group list
        # itself could not be read ("groups"), no group is forgotten.
        groups = (
            0
            if "groups" in self.progress.failed_ids
            else self.runtime.identities.delete_stale(
                self.job.data_source_id, self.job.id, keep=sorted(self.progress.failed_ids)
            )
        )
        if groups:
            log.info(
                "forgot groups missing from a complete enumeration",
                extra={
                    "job_id": self.job.id,
                    "data_source_id": self.job.data_source_id,
                    "groups": groups,
                },
            )
        if deleted:
            self.progress.add_swept(sample, deleted)
            log.info(
                "deleted documents missing from a complete enumeration",
                extra={
                    "job_id": self.job.id,
                    "data_source_id": self.job.data_source_id,
                    "deleted": deleted,
                },
            )

    def _finish(self, status: JobStatus, error: str | None = None) -> None:
        try:
            self._write(
                {
                    **self.progress.snapshot(),
                    "status": status.value,
                    "error": error,
                    "finished_at": _now(),
                },
                refresh=True,
            )
        except Aborted:
            return  # another attempt owns the job (and its journal)
        try:  # the job is over (succeeded, stopped or failed): nothing will replay
            self.journal.delete()
        except Exception:
            log.warning("could not empty the sync journal", extra={"job_id": self.job.id})
        log.info(
            "sync job finished",
            extra={
                "job_id": self.job.id,
                "data_source_id": self.job.data_source_id,
                "status": status.value,
                **self.progress.stats.model_dump(),
            },
        )
