"""Data sources and sync jobs as stored (Elasticsearch system indices) and as shown to users."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from connectors.models import SyncMode

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")


def _cron(value: str | None) -> str | None:
    """Five cron fields (UTC) that fire: checked by computing the next runs, not by syntax."""
    if value is None or not value.strip():
        return None
    from croniter import CroniterBadDateError, croniter

    schedule = " ".join(value.split())
    if not croniter.is_valid(schedule):
        raise ValueError(f"{value!r} is not a valid cron expression (e.g. '*/15 * * * *')")
    fields = len(schedule.split(" "))
    if fields != 5:
        raise ValueError(
            f"{value!r} has {fields} fields; a schedule has 5 cron fields "
            "(minute hour day-of-month month day-of-week), e.g. '*/15 * * * *'"
        )
    try:
        croniter(schedule, datetime(2000, 1, 1, tzinfo=UTC)).get_next(datetime)
    except (CroniterBadDateError, ValueError, KeyError) as exc:
        raise ValueError(f"{value!r} never fires (no such date, e.g. 30 February): {exc}") from None
    return schedule


class DataSourceSpec(BaseModel):
    """What an administrator writes to create or update a data source."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Unique, letters, digits, '_' or '-'; also the data source id.")
    type: str = Field(description="A connector type, e.g. 'alfresco' or 'filesystem'.")
    description: str = ""
    config: dict[str, Any] = Field(default_factory=dict)
    schedule: str | None = Field(default=None, description="Cron expression (UTC), or null.")
    enabled: bool = True

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME.match(value):
            raise ValueError(
                "must start with a letter or digit and hold only letters, digits, '_' or '-' (max 100)"
            )
        return value

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        return _cron(value)


class DataSource(DataSourceSpec):
    id: str
    created_at: datetime
    updated_at: datetime


class JobStatus(str, Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    STOPPED = "stopped"

    @property
    def active(self) -> bool:
        return self in (JobStatus.QUEUED, JobStatus.RUNNING)


class JobStats(BaseModel):
    scanned: int = 0
    added: int = 0
    modified: int = 0
    unchanged: int = 0
    deleted: int = 0
    failed: int = 0
    groups: int = 0
    passages: int = 0
    truncated: int = 0
    metadata_only: int = 0


class ItemError(BaseModel):
    id: str
    reason: str


class SyncJob(BaseModel):
    """One run of a data source's sync, with Kendra-style history and live progress."""

    id: str
    data_source_id: str
    mode: SyncMode
    status: JobStatus
    trigger: str = "manual"
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    heartbeat_at: datetime | None = None
    stats: JobStats = Field(default_factory=JobStats)
    errors: list[ItemError] = Field(default_factory=list, description="A sample of failed items.")
    deleted_ids: list[str] = Field(default_factory=list, description="A sample of deleted ids.")
    checkpoint: dict[str, Any] | None = None
    error: str | None = Field(default=None, description="Why a failed job failed.")
    stop_requested: bool = False
    worker: str | None = None
    attempts: int = 0
    resumes: int = Field(
        default=0, description="Times the sweep re-enqueued the job after its worker died."
    )
    resumed_at: datetime | None = None
    requeues: int = Field(
        default=0, description="Times the sweep enqueued the queued job again (lost message)."
    )
    stalled: bool = Field(
        default=False,
        description="Running, but no heartbeat for sync_stalled_after_s: its worker may have "
        "died; the scheduler resumes it from its checkpoint once its lock has expired.",
    )

    def with_liveness(self, stalled_after_s: float, now: datetime | None = None) -> SyncJob:
        """The job as shown: ``stalled`` when it runs without a recent heartbeat."""
        if self.status != JobStatus.RUNNING or self.heartbeat_at is None:
            return self
        now = now or datetime.now(UTC)
        stalled = (now - self.heartbeat_at).total_seconds() > stalled_after_s
        return self.model_copy(update={"stalled": stalled}) if stalled else self

    @property
    def duration_s(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.finished_at or datetime.now(self.started_at.tzinfo)
        return (end - self.started_at).total_seconds()

    @property
    def items_per_s(self) -> float | None:
        d = self.duration_s
        return round(self.stats.scanned / d, 2) if d else None
