"""The sync engine's public services, in one import for the API, the CLI and the scheduler."""

from __future__ import annotations

from acl import TokenResolver
from search.principals import PrincipalService
from search.runtime import Runtime
from sync_engine.datasources import DataSourceService, InvalidConfig
from sync_engine.jobs import SweepReport, SyncService
from sync_engine.runner import LockBusy, RunOutcome, run_job
from sync_engine.store import SyncStore
from sync_engine.verify import Verifier

__all__ = [
    "DataSourceService",
    "InvalidConfig",
    "LockBusy",
    "PrincipalService",
    "RunOutcome",
    "SweepReport",
    "SyncService",
    "principal_service",
    "run_job",
    "verifier",
]


def verifier(runtime: Runtime) -> Verifier:
    """The index-versus-source checker over the runtime's sync store."""
    return Verifier(runtime, SyncStore(runtime.es, runtime.settings))


def principal_service(
    runtime: Runtime, tokens: TokenResolver | None = None, ttl_s: float = 30.0
) -> PrincipalService:
    """The principal service over the runtime's identity store and its data sources."""
    return PrincipalService(
        runtime.identities, DataSourceService(runtime).identity_scopes, tokens, ttl_s
    )
