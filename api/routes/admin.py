"""Administration: data sources, sync jobs, index statistics and identity tests (admin key only).

The routes translate HTTP to the sync services and back; the services own the rules and raise
the core's errors (bad request, not found, conflict), which ``api.errors`` maps to statuses.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, status

from api.auth import require_admin
from api.deps import Services, services
from api.models import Deleted, IdentityTestBody, IdentityTestResponse, SyncBody, SyncStarted
from connectors.base import CheckResult
from search.sync.models import DataSource, DataSourceSpec, SyncJob

router = APIRouter(
    prefix="/v1",
    tags=["admin"],
    dependencies=[Depends(require_admin)],
    responses={
        401: {"description": "The admin key is missing or wrong."},
        503: {"description": "The admin API is disabled (no QUARRY_ADMIN_KEY_SHA256)."},
    },
)

DataSourceId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=100,
        description="The data source's name (letters, digits, '_' or '-'; at most 100).",
    ),
]
"""Bounded in the route: an id Elasticsearch cannot hold (over 512 bytes) is a 422, not a 500."""
JobId = Annotated[str, Path(min_length=1, max_length=64, description="A sync job's id.")]

_INTERNAL = {"checkpoint"}
"""Connector resume state: internal to the sync engine and possibly large, never shown."""


@router.post("/datasources", response_model=DataSource, status_code=status.HTTP_201_CREATED)
def create_datasource(spec: DataSourceSpec, svc: Services = Depends(services)) -> DataSource:
    return svc.datasources.create(spec)


@router.get("/datasources", response_model=list[DataSource])
def list_datasources(svc: Services = Depends(services)) -> list[DataSource]:
    return svc.datasources.list()


@router.get("/datasources/{data_source_id}", response_model=DataSource)
def get_datasource(data_source_id: DataSourceId, svc: Services = Depends(services)) -> DataSource:
    return svc.datasources.get(data_source_id)


@router.put("/datasources/{data_source_id}", response_model=DataSource)
def update_datasource(
    data_source_id: DataSourceId, spec: DataSourceSpec, svc: Services = Depends(services)
) -> DataSource:
    return svc.datasources.update(data_source_id, spec)


@router.delete("/datasources/{data_source_id}", response_model=Deleted)
def delete_datasource(data_source_id: DataSourceId, svc: Services = Depends(services)) -> Deleted:
    """Removes the data source and every document it indexed."""
    return Deleted(id=data_source_id, deleted_documents=svc.datasources.delete(data_source_id))


@router.post("/datasources/{data_source_id}/check", response_model=CheckResult)
def check_datasource(
    data_source_id: DataSourceId, svc: Services = Depends(services)
) -> CheckResult:
    """Whether the connector can reach its source with this configuration, and why not."""
    return svc.datasources.check(data_source_id)


@router.post(
    "/datasources/{data_source_id}/sync",
    response_model=SyncStarted,
    status_code=status.HTTP_202_ACCEPTED,
)
def start_sync(
    data_source_id: DataSourceId, body: SyncBody | None = None, svc: Services = Depends(services)
) -> SyncStarted:
    """Queue a sync job; poll ``/v1/sync-jobs/{job_id}`` for its progress."""
    mode = (body or SyncBody()).mode
    job = svc.sync.start(data_source_id, mode, trigger="api")
    return SyncStarted(
        job_id=job.id, data_source_id=job.data_source_id, status=job.status.value, mode=job.mode
    )


@router.get(
    "/datasources/{data_source_id}/sync-jobs",
    response_model=list[SyncJob],
    response_model_exclude=_INTERNAL,
)
def list_sync_jobs(
    data_source_id: DataSourceId,
    limit: int = Query(50, ge=1, le=500),
    svc: Services = Depends(services),
) -> list[SyncJob]:
    svc.datasources.get(data_source_id)  # 404 for an unknown data source, not an empty list
    return svc.sync.list(data_source_id, limit=limit)


@router.get("/sync-jobs/{job_id}", response_model=SyncJob, response_model_exclude=_INTERNAL)
def get_sync_job(job_id: JobId, svc: Services = Depends(services)) -> SyncJob:
    return svc.sync.get(job_id)


@router.post("/sync-jobs/{job_id}/stop", response_model=SyncJob, response_model_exclude=_INTERNAL)
def stop_sync_job(job_id: JobId, svc: Services = Depends(services)) -> SyncJob:
    """Ask a running job to stop at its next checkpoint; it ends as ``stopped``."""
    return svc.sync.stop(job_id)


@router.get("/index/stats")
def index_stats(svc: Services = Depends(services)) -> dict[str, Any]:
    return svc.runtime.index.stats()


@router.post("/identity/test", response_model=IdentityTestResponse)
def identity_test(
    body: IdentityTestBody, svc: Services = Depends(services)
) -> IdentityTestResponse:
    """The groups a user searches with (given groups plus the identity store's, transitively)."""
    paths = svc.runtime.identities.membership_paths(body.user_id, sorted(set(body.groups)))
    return IdentityTestResponse(user_id=body.user_id, groups=sorted(paths), paths=paths)
