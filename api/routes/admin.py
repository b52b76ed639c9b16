"""Administration: data sources, sync jobs, index statistics and identity tests (admin key only).

The routes translate HTTP to the sync services and back; the services own the rules and raise
the core's errors (bad request, not found, conflict), which ``api.errors`` maps to statuses.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, status

from acl import GLOBAL
from api.auth import require_admin
from api.deps import Services, services
from api.models import (
    Deleted,
    IdentityTestBody,
    IdentityTestResponse,
    PrincipalMapping,
    PrincipalMappingOut,
    SourceGroups,
    SyncBody,
    SyncStarted,
)
from connectors.base import CheckResult
from connectors.models import GroupMembership
from search.errors import NotFound
from sync_engine.models import DataSource, DataSourceSpec, SyncJob
from sync_engine.verify import Verification

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


@router.post("/datasources/{data_source_id}/verify", response_model=Verification)
def verify_datasource(
    data_source_id: DataSourceId,
    sample: int | None = Query(default=None, ge=1, description="Compare N random documents."),
    repair: bool = Query(default=False, description="Fix the drift (under the sync lock)."),
    svc: Services = Depends(services),
) -> Verification:
    """Compare the index with the source (missing, extra, stale content, stale ACL); recorded."""
    return svc.verifier.run(data_source_id, sample, repair)


@router.get("/datasources/{data_source_id}/verifications", response_model=list[Verification])
def list_verifications(
    data_source_id: DataSourceId,
    limit: int = Query(default=20, ge=1, le=100),
    svc: Services = Depends(services),
) -> list[Verification]:
    """The data source's last verifications, newest first."""
    return svc.verifier.history(data_source_id, limit)


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


_GROUP = Path(min_length=1, max_length=1024, description="The group the mapping defines.")
_SCOPE = Query(
    default=None,
    min_length=1,
    max_length=100,
    description="The mapping's data source; omit for global.",
)


def _namespace(svc: Services, data_source_id: str | None) -> str:
    if data_source_id is None:
        return GLOBAL
    svc.datasources.get(data_source_id)  # 404 for an unknown data source
    return data_source_id


@router.put("/principal-mappings/{group}", response_model=PrincipalMappingOut)
def put_principal_mapping(
    body: PrincipalMapping, group: str = _GROUP, svc: Services = Depends(services)
) -> PrincipalMappingOut:
    """Define ``group``'s members (replacing earlier ones) for one data source or globally.

    Mappings survive syncs; a scoped one counts only for that source's documents."""
    namespace = _namespace(svc, body.data_source_id)
    svc.runtime.identities.put_memberships(
        namespace, [GroupMembership(group=group, users=body.users, groups=body.groups)]
    )
    return PrincipalMappingOut(group=group, **body.model_dump())


@router.get("/principal-mappings/{group}", response_model=PrincipalMappingOut)
def get_principal_mapping(
    group: str = _GROUP, data_source_id: str | None = _SCOPE, svc: Services = Depends(services)
) -> PrincipalMappingOut:
    found = svc.runtime.identities.get_membership(group, _namespace(svc, data_source_id))
    if found is None:
        raise NotFound(f"no principal mapping for group {group!r}")
    return PrincipalMappingOut(
        group=group, data_source_id=data_source_id, users=found.users, groups=found.groups
    )


@router.delete("/principal-mappings/{group}", status_code=status.HTTP_204_NO_CONTENT)
def delete_principal_mapping(
    group: str = _GROUP, data_source_id: str | None = _SCOPE, svc: Services = Depends(services)
) -> None:
    if not svc.runtime.identities.delete_membership(group, _namespace(svc, data_source_id)):
        raise NotFound(f"no principal mapping for group {group!r}")


@router.post("/identity/test", response_model=IdentityTestResponse)
def identity_test(
    body: IdentityTestBody, svc: Services = Depends(services)
) -> IdentityTestResponse:
    """The groups a user searches with: ``groups`` count for every data source (the given ones,
    like a token's, and global mappings); ``sources`` lists what each data source's own
    identity records add, which counts only for that source's documents."""
    resolution = svc.principals.resolution(body.user_id, sorted(set(body.groups)))
    principal = resolution.principal()
    return IdentityTestResponse(
        user_id=body.user_id,
        groups=sorted(resolution.global_paths),
        paths=resolution.global_paths,
        sources={
            source: SourceGroups(
                groups=sorted(principal.sources[source].groups),
                paths={g: c for g, c in paths.items() if g in principal.sources[source].groups},
            )
            for source, paths in sorted(resolution.source_paths.items())
        },
    )
