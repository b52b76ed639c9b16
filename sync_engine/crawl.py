"""One attempt at a sync job: the connector's crawl, batched through the pipeline.

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
from sync_engine.journal import Journal
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
    ) -> None:
        self.runtime = runtime
        self.store = store
        self.job = job
        self.token = token
        self.connector = connector
        self.progress = Progress(saved, shown)
        self.journal = Journal(store, job.id, job.data_source_id)
        self.interrupted: BaseException | None = None
        """Elasticsearch or Redis failed for longer than the sync's patience: resume later."""
        self.stop_requested = threading.Event()
        self.aborted = threading.Event()
        self.waiting_since: float | None = None
        """Monotonic time at which the crawl started waiting for the connector's next item."""
        self.result: JobStatus | None = None
        self.error: str | None = None
        self._state: dict[str, Any] | None = job.checkpoint

    def waited_s(self) -> float:
        since = self.waiting_since
        return 0.0 if since is None else time.monotonic() - since

    def run(self) -> None:
        """Thread entry point: always ends with ``result`` set (or the job taken over)."""
        try:
            self.journal.load()
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
        items = prefetched(
            iter(self.connector.crawl(mode, checkpoint, limits)),
            maxsize=2 * self.runtime.settings.bulk_batch_docs,
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
        complete = False
        size = self.runtime.settings.bulk_batch_docs
        for item in self._items():
            if isinstance(item, Checkpoint):
                self._flush(batch, save=False)
                batch = []
                self._save_checkpoint(item)
                complete = item.complete
            else:
                batch.append(item)
                if len(batch) >= size:
                    self._flush(batch)
                    batch = []
            if self.stop_requested.is_set():
                self._flush(batch)
                self._finish(JobStatus.STOPPED)
                return JobStatus.STOPPED
        self._flush(batch)
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

    def _flush(self, batch: list[CrawlItem], save: bool = True) -> None:
        if not batch:
            return
        self._check_abort()
        stats = self.runtime.pipeline.write_batch(
            self.job.data_source_id, batch, self.job.id, before_write=self.journal.note
        )
        self.journal.reclassify(stats)
        self.progress.add(stats)
        if save:
            self._write(self.progress.snapshot())

    def _save_checkpoint(self, checkpoint: Checkpoint) -> None:
        """Progress first (it proves this attempt still owns the job), then the checkpoint."""
        snapshot = self.progress.snapshot()
        now = _now()
        self._write({**snapshot, "checkpoint_at": now})
        self.store.save_job_checkpoint(self.job, checkpoint.state, snapshot, now)
        self._state = checkpoint.state
        self.journal.clear()

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
            return
        log.info(
            "sync job finished",
            extra={
                "job_id": self.job.id,
                "data_source_id": self.job.data_source_id,
                "status": status.value,
                **self.progress.stats.model_dump(),
            },
        )
