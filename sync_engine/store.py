"""Data sources, sync jobs and checkpoints in three Elasticsearch system indices.

Every change of a job or data source is a compare-and-set: read the document with its
sequence number, decide in Python (expected status, the run token of the attempt that owns a
running job), write it back with ``if_seq_no``/``if_primary_term``, retry on conflict. So a
stale runner, the watchdog, the scheduler's sweep and a stop request can race without one
overwriting another's decision, and no scripting module is needed on the cluster.

Checkpoints live in their own index, unindexed (``dynamic: false``): they can be as large as a
source's file list, and job documents are rewritten on every batch for live progress.
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from elasticsearch import ConflictError, Elasticsearch, NotFoundError
from elasticsearch import ConnectionError as ESConnectionError

from search.errors import BackendUnavailable, Conflict, NotFound
from search.purge import delete_matching
from search.settings import Settings
from search.system_index import ensure_index
from sync_engine.models import SyncJob

log = logging.getLogger(__name__)

Refresh = Literal["true", "false", "wait_for"]
Mutation = Callable[[dict[str, Any]], dict[str, Any] | None]

CAS_ATTEMPTS = 50
_DATE = {"type": "date"}
_KEYWORD = {"type": "keyword"}

SOURCES_MAPPING: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "id": _KEYWORD,
        "name": _KEYWORD,
        "type": _KEYWORD,
        "schedule": _KEYWORD,
        "enabled": {"type": "boolean"},
        "created_at": _DATE,
        "updated_at": _DATE,
    },
}
JOBS_MAPPING: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "id": _KEYWORD,
        "data_source_id": _KEYWORD,
        "mode": _KEYWORD,
        "status": _KEYWORD,
        "trigger": _KEYWORD,
        "worker": _KEYWORD,
        "run_token": _KEYWORD,
        "created_at": _DATE,
        "started_at": _DATE,
        "finished_at": _DATE,
        "heartbeat_at": _DATE,
        "attempts": {"type": "integer"},
        "resumes": {"type": "integer"},
        "resumed_at": _DATE,
        "requeued_at": _DATE,
        "stop_requested": {"type": "boolean"},
    },
}
CHECKPOINTS_MAPPING: dict[str, Any] = {
    "dynamic": False,
    "properties": {"data_source_id": _KEYWORD, "job_id": _KEYWORD, "saved_at": _DATE},
}


def _unavailable(exc: Exception) -> BackendUnavailable:
    return BackendUnavailable(f"Elasticsearch unavailable for sync state: {exc}")


class SyncStore:
    """Reads and conditional writes of data source, job and checkpoint documents."""

    def __init__(self, es: Elasticsearch, settings: Settings) -> None:
        self.es = es
        self.sources = settings.system_index("datasources")
        self.jobs = settings.system_index("sync-jobs")
        self.checkpoints = settings.system_index("sync-checkpoints")
        self.index_settings = settings.index_settings("system")
        self._ensured = False

    def ensure(self) -> None:
        if self._ensured:
            return
        for index, mapping in (
            (self.sources, SOURCES_MAPPING),
            (self.jobs, JOBS_MAPPING),
            (self.checkpoints, CHECKPOINTS_MAPPING),
        ):
            try:
                ensure_index(self.es, index, mapping, self.index_settings)
            except ESConnectionError as exc:
                raise _unavailable(exc) from exc
        self._ensured = True

    def _get(self, index: str, doc_id: str, what: str, **kw: Any) -> dict[str, Any]:
        self.ensure()
        try:
            return dict(self.es.get(index=index, id=doc_id, **kw).body)
        except NotFoundError as exc:
            raise NotFound(f"no {what} {doc_id!r}") from exc
        except ESConnectionError as exc:
            raise _unavailable(exc) from exc

    def _cas(
        self, index: str, doc_id: str, what: str, mutate: Mutation, refresh: Refresh = "false"
    ) -> dict[str, Any] | None:
        """Apply ``mutate`` atomically; None when it declined (its condition did not hold)."""
        for attempt in range(CAS_ATTEMPTS):
            found = self._get(index, doc_id, what)
            new = mutate(dict(found["_source"]))
            if new is None:
                return None
            try:
                self.es.index(
                    index=index,
                    id=doc_id,
                    document=new,
                    if_seq_no=found["_seq_no"],
                    if_primary_term=found["_primary_term"],
                    refresh=refresh,
                )
            except ConflictError:
                time.sleep(random.uniform(0.005, 0.02) * (attempt + 1))
                continue
            except ESConnectionError as exc:
                raise _unavailable(exc) from exc
            return new
        raise Conflict(f"{what} {doc_id!r} keeps changing; retry")

    # -- data sources -------------------------------------------------------------------

    def create_source(self, doc: dict[str, Any]) -> None:
        self.ensure()
        try:
            self.es.create(index=self.sources, id=doc["id"], document=doc, refresh="true")
        except ConflictError as exc:
            raise Conflict(f"a data source named {doc['id']!r} already exists") from exc

    def source_doc(self, source_id: str) -> tuple[dict[str, Any], int, int]:
        """The stored document with its sequence number and primary term (for replace)."""
        found = self._get(self.sources, source_id, "data source")
        return found["_source"], found["_seq_no"], found["_primary_term"]

    def replace_source(self, doc: dict[str, Any], seq_no: int, primary_term: int) -> bool:
        """Overwrite the version that was read; False if it changed since."""
        try:
            self.es.index(
                index=self.sources,
                id=doc["id"],
                document=doc,
                if_seq_no=seq_no,
                if_primary_term=primary_term,
                refresh="true",
            )
        except ConflictError:
            return False
        return True

    def list_sources(self) -> list[dict[str, Any]]:
        self.ensure()
        response = self.es.search(
            index=self.sources, size=10_000, sort=[{"id": "asc"}], query={"match_all": {}}
        )
        return [hit["_source"] for hit in response.body["hits"]["hits"]]

    def set_state(self, source_id: str, state: dict[str, Any], refresh: Refresh = "false") -> None:
        """Merge keys into the source's ``state`` (sync and schedule bookkeeping)."""

        def merge(doc: dict[str, Any]) -> dict[str, Any]:
            return {**doc, "state": {**(doc.get("state") or {}), **state}}

        self._cas(self.sources, source_id, "data source", merge, refresh)

    def delete_source_doc(self, source_id: str) -> None:
        with contextlib.suppress(NotFoundError):
            self.es.delete(index=self.sources, id=source_id, refresh="true")

    # -- checkpoints --------------------------------------------------------------------

    def good_checkpoint(self, source_id: str) -> dict[str, Any] | None:
        """The final checkpoint of the source's last successful job (None: never synced)."""
        try:
            found = self._get(self.checkpoints, f"source:{source_id}", "checkpoint")
        except NotFound:
            return None
        state = found["_source"].get("state")
        return state if isinstance(state, dict) else None

    def save_good_checkpoint(self, source_id: str, job_id: str, state: dict[str, Any]) -> None:
        self.ensure()
        self.es.index(
            index=self.checkpoints,
            id=f"source:{source_id}",
            document={
                "data_source_id": source_id,
                "job_id": job_id,
                "state": state,
            },
        )

    def forget_good_checkpoint(self, source_id: str) -> None:
        self.ensure()
        with contextlib.suppress(NotFoundError):
            self.es.delete(index=self.checkpoints, id=f"source:{source_id}")

    def save_job_checkpoint(
        self, job: SyncJob, state: dict[str, Any] | None, progress: dict[str, Any], saved_at: str
    ) -> None:
        """Where an attempt resumes, with the progress counted up to that point."""
        self.ensure()
        self.es.index(
            index=self.checkpoints,
            id=f"job:{job.id}",
            document={
                "data_source_id": job.data_source_id,
                "job_id": job.id,
                "state": state,
                "progress": progress,
                "saved_at": saved_at,
            },
        )

    def job_checkpoint(self, job_id: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """(state, progress) saved by the job, or (None, None)."""
        try:
            found = self._get(self.checkpoints, f"job:{job_id}", "checkpoint")
        except NotFound:
            return None, None
        return found["_source"].get("state"), found["_source"].get("progress")

    # -- jobs ---------------------------------------------------------------------------

    def create_job(self, job: SyncJob) -> None:
        self.ensure()
        doc = {**job.model_dump(mode="json", exclude={"checkpoint"}), "run_token": None}
        self.es.create(index=self.jobs, id=job.id, document=doc, refresh="true")

    def job_doc(self, job_id: str) -> dict[str, Any]:
        return dict(self._get(self.jobs, job_id, "sync job")["_source"])

    def job(self, job_id: str) -> SyncJob:
        """The job with its last checkpoint."""
        doc = self.job_doc(job_id)
        state, _ = self.job_checkpoint(job_id)
        return SyncJob.model_validate({**doc, "checkpoint": state})

    def job_control(self, job_id: str) -> dict[str, Any]:
        """The few fields a runner polls: status, owner token and whether a stop was asked."""
        try:
            found = self._get(
                self.jobs,
                job_id,
                "sync job",
                source_includes=["status", "run_token", "stop_requested"],
            )
        except NotFound:
            return {}
        return dict(found["_source"])

    def list_jobs(self, source_id: str, limit: int) -> list[SyncJob]:
        """Newest first, without checkpoints."""
        self.ensure()
        response = self.es.search(
            index=self.jobs,
            size=limit,
            query={"term": {"data_source_id": source_id}},
            sort=[{"created_at": "desc"}, {"id": "desc"}],
        )
        return [SyncJob.model_validate(h["_source"]) for h in response.body["hits"]["hits"]]

    def find_jobs(self, query: dict[str, Any], size: int = 1000) -> list[dict[str, Any]]:
        self.ensure()
        response = self.es.search(index=self.jobs, size=size, query=query)
        return [hit["_source"] for hit in response.body["hits"]["hits"]]

    def _job_cas(self, job_id: str, mutate: Mutation, refresh: Refresh) -> bool:
        return self._cas(self.jobs, job_id, "sync job", mutate, refresh) is not None

    def claim(self, job_id: str, token: str, worker: str, now: datetime) -> bool:
        """Make this run the job's owner: queued → running, or a new attempt of a running job.

        A running job's previous owner is gone (this run holds the lock); its token is
        replaced, so any late write of that attempt fails.
        """

        def take(doc: dict[str, Any]) -> dict[str, Any] | None:
            if doc["status"] == "queued":
                doc.update(status="running", started_at=now.isoformat(), attempts=1)
            elif doc["status"] == "running":
                doc["attempts"] = int(doc.get("attempts") or 0) + 1
            else:
                return None
            doc.update(run_token=token, worker=worker, heartbeat_at=now.isoformat())
            return doc

        return self._job_cas(job_id, take, "true")

    def update_running(
        self, job_id: str, token: str, fields: dict[str, Any], refresh: Refresh = "false"
    ) -> bool:
        """Write fields only while the job runs under ``token``; False means ownership is lost."""
        return self.update_if(job_id, "running", token, fields, refresh)

    def update_if(
        self,
        job_id: str,
        status: str,
        token: str | None,
        fields: dict[str, Any],
        refresh: Refresh = "true",
    ) -> bool:
        """Write fields only if the job still has ``status`` and run ``token``.

        ``None`` is a token too: no attempt owns the job (queued, or re-enqueued by the sweep),
        so a worker that claims it meanwhile is never overruled.
        """

        def apply(doc: dict[str, Any]) -> dict[str, Any] | None:
            if doc["status"] != status or doc.get("run_token") != token:
                return None
            return {**doc, **fields}

        return self._job_cas(job_id, apply, refresh)

    def mark_resumed(self, job_id: str, dead_token: str, now: datetime) -> bool:
        """Take a running job away from its dead attempt so it can be re-enqueued, once.

        Clearing the token makes a second sweeper that read the same ``dead_token`` decline
        (no double re-enqueue), and makes any late write of the dead attempt fail.
        """

        def resume(doc: dict[str, Any]) -> dict[str, Any] | None:
            if doc["status"] != "running" or doc.get("run_token") != dead_token:
                return None
            resumes = int(doc.get("resumes") or 0) + 1
            return {**doc, "run_token": None, "resumes": resumes, "resumed_at": now.isoformat()}

        return self._job_cas(job_id, resume, "true")

    def mark_requeued(self, job_id: str, not_since: datetime, now: datetime) -> bool:
        """Claim the right to enqueue a still-queued job again (once per interval, one sweeper)."""

        def requeue(doc: dict[str, Any]) -> dict[str, Any] | None:
            if doc["status"] != "queued" or doc.get("run_token") is not None:
                return None
            last = doc.get("requeued_at")
            if last and datetime.fromisoformat(last) > not_since:
                return None
            return {
                **doc,
                "requeues": int(doc.get("requeues") or 0) + 1,
                "requeued_at": now.isoformat(),
            }

        return self._job_cas(job_id, requeue, "true")

    def request_stop(self, job_id: str, now: datetime) -> bool:
        def stop(doc: dict[str, Any]) -> dict[str, Any] | None:
            if doc["status"] == "queued":
                return {
                    **doc,
                    "status": "stopped",
                    "stop_requested": True,
                    "finished_at": now.isoformat(),
                }
            if doc["status"] == "running":
                return {**doc, "stop_requested": True}
            return None

        return self._job_cas(job_id, stop, "true")

    def delete_history(self, source_id: str) -> None:
        """The source's jobs and checkpoints."""
        self.ensure()
        for index in (self.jobs, self.checkpoints):
            delete_matching(self.es, index, {"term": {"data_source_id": source_id}})
