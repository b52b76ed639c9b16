"""StartDataSourceSyncJob, StopDataSourceSyncJob, ListDataSourceSyncJobs on SyncService.

A Kendra sync picks up changes since the last one, so a start queues an incremental job
(the engine runs it as a full one for a source never synced). Kendra's ``ExecutionId`` is
the job id; statuses and metrics are renamed, never recomputed.
"""

from __future__ import annotations

import contextlib
from typing import Any

from api.kendra import shapes
from api.kendra.attributes import parse_time
from api.kendra.context import KendraContext
from api.kendra.errors import KendraError, validation
from connectors.models import SyncMode
from search.errors import Conflict
from sync_engine.models import JobStatus, SyncJob

TRIGGER = "kendra"
STATUSES = (
    "FAILED",
    "SUCCEEDED",
    "SYNCING",
    "INCOMPLETE",
    "STOPPING",
    "ABORTED",
    "SYNCING_INDEXING",
)
MAX_HISTORY = 1000


def kendra_status(job: SyncJob) -> str:
    if job.status.active:
        return "STOPPING" if job.stop_requested else "SYNCING"
    return {
        JobStatus.SUCCEEDED: "SUCCEEDED",
        JobStatus.FAILED: "FAILED",
        JobStatus.STOPPED: "ABORTED",
    }.get(job.status, "FAILED")


def history_item(job: SyncJob) -> dict[str, Any]:
    stats = job.stats
    item: dict[str, Any] = {
        "ExecutionId": job.id,
        "StartTime": job.started_at or job.created_at,
        "Status": kendra_status(job),
        "Metrics": {
            "DocumentsAdded": str(stats.added),
            "DocumentsModified": str(stats.modified),
            "DocumentsDeleted": str(stats.deleted),
            "DocumentsFailed": str(stats.failed),
            "DocumentsScanned": str(stats.scanned),
        },
    }
    if job.finished_at is not None:
        item["EndTime"] = job.finished_at
    if job.status is JobStatus.FAILED:
        item["ErrorCode"] = "InternalError"
        item["ErrorMessage"] = (job.error or "the sync failed")[:2048]
    return item


def start_sync(ctx: KendraContext, body: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    ctx.index(body.get("IndexId"))
    source_id = shapes.required(body, "Id", 100)
    running = ctx.svc.sync.active(source_id)
    if running is not None:
        raise KendraError(
            "ResourceInUseException", f"data source {source_id!r} is already syncing ({running.id})"
        )
    try:
        job = ctx.svc.sync.start(source_id, SyncMode.INCREMENTAL, trigger=TRIGGER)
    except Conflict as exc:
        code = "ResourceInUseException" if "already has" in exc.message else "ConflictException"
        raise KendraError(code, exc.message) from None
    return {"ExecutionId": job.id}


def stop_sync(ctx: KendraContext, body: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    ctx.index(body.get("IndexId"))
    source_id = shapes.required(body, "Id", 100)
    running = ctx.svc.sync.active(source_id)
    if running is None:
        raise validation(f"data source {source_id!r} has no sync job running")
    with contextlib.suppress(Conflict):  # it finished meanwhile: nothing left to stop
        ctx.svc.sync.stop(running.id)
    return {}


def list_sync_jobs(ctx: KendraContext, body: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    ctx.index(body.get("IndexId"))
    source_id = shapes.required(body, "Id", 100)
    size = shapes.integer(body, "MaxResults", 10, 1, 100)
    start = shapes.page_token(shapes.string(body, "NextToken", max_len=800))
    wanted = shapes.string(body, "StatusFilter")
    if wanted is not None and wanted not in STATUSES:
        raise validation(f"StatusFilter must be one of {list(STATUSES)}")
    window = shapes.obj(body, "StartTimeFilter") or {}
    since = (
        parse_time(window["StartTime"], "StartTimeFilter.StartTime")
        if window.get("StartTime") is not None
        else None
    )
    until = (
        parse_time(window["EndTime"], "StartTimeFilter.EndTime")
        if window.get("EndTime") is not None
        else None
    )
    jobs = [history_item(j) for j in ctx.svc.sync.list(source_id, limit=MAX_HISTORY)]
    jobs = [
        j
        for j in jobs
        if (wanted is None or j["Status"] == wanted)
        and (since is None or j["StartTime"] >= since)
        and (until is None or j["StartTime"] <= until)
    ]
    out: dict[str, Any] = {"History": jobs[start : start + size]}
    if start + size < len(jobs):
        out["NextToken"] = shapes.next_token(start + size)
    return out
