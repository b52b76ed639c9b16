"""The sync engine's public services, in one import for the API, the CLI and the scheduler."""

from __future__ import annotations

from search.sync.datasources import DataSourceService, InvalidConfig
from search.sync.jobs import SweepReport, SyncService
from search.sync.runner import LockBusy, RunOutcome, run_job

__all__ = [
    "DataSourceService",
    "InvalidConfig",
    "LockBusy",
    "RunOutcome",
    "SweepReport",
    "SyncService",
    "run_job",
]
