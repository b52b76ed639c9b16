"""The sync engine's public services, in one import for the API, the CLI and the scheduler."""

from __future__ import annotations

from sync_engine.datasources import DataSourceService, InvalidConfig
from sync_engine.jobs import SweepReport, SyncService
from sync_engine.runner import LockBusy, RunOutcome, run_job

__all__ = [
    "DataSourceService",
    "InvalidConfig",
    "LockBusy",
    "RunOutcome",
    "SweepReport",
    "SyncService",
    "run_job",
]
