"""Data sources: what to crawl, how, and when, kept in an Elasticsearch system index.

A config is validated by the connector's own pydantic model before it is stored, so a typo
is reported to the administrator with its field path instead of failing a sync at 3 a.m.
Configs name secrets by reference only (``secret_ref``); the value is read at sync time.
"""

from __future__ import annotations

import builtins
import logging
from datetime import UTC, datetime
from typing import Any

from connectors.base import CheckResult, Connector
from connectors.errors import ConnectorConfigError, ConnectorError
from connectors.registry import build_connector, case_insensitive_ids
from search.errors import BadRequest, Conflict
from search.purge import delete_matching
from search.runtime import Runtime
from sync_engine.locks import start_lock
from sync_engine.models import DataSource, DataSourceSpec, SyncJob
from sync_engine.store import SyncStore

log = logging.getLogger(__name__)

START_LOCK_WAIT_S = 10.0
UPDATE_ATTEMPTS = 5


class InvalidConfig(BadRequest):
    """A connector config its model rejects; ``errors`` hold ``{"loc", "msg", "type"}``."""

    def __init__(self, message: str, errors: builtins.list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.errors = errors


def connector_for(type_name: str, config: dict[str, Any], data_source_id: str) -> Connector:
    """Build the connector, turning registry errors into the API's BadRequest."""
    try:
        return build_connector(type_name, config, data_source_id)
    except ConnectorConfigError as exc:
        raise InvalidConfig(exc.message, exc.errors) from None
    except ConnectorError as exc:  # unknown type: the message lists the installed ones
        raise BadRequest(exc.message) from None


def active_job(store: SyncStore, source: dict[str, Any]) -> SyncJob | None:
    """The source's queued or running job, read in real time (no refresh needed)."""
    job_id = (source.get("state") or {}).get("active_job_id")
    if not job_id:
        return None
    try:
        job = store.job(job_id)
    except Exception:  # a vanished job document is not an active job
        return None
    return job if job.status.active else None


def to_model(doc: dict[str, Any]) -> DataSource:
    return DataSource.model_validate({k: doc[k] for k in DataSource.model_fields if k in doc})


class DataSourceService:
    """Create, read, update, delete and check data sources."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.store = SyncStore(runtime.es, runtime.settings)

    def create(self, spec: DataSourceSpec) -> DataSource:
        connector_for(spec.type, spec.config, spec.name)
        now = datetime.now(UTC).isoformat()
        doc = {
            **spec.model_dump(mode="json"),
            "id": spec.name,
            "created_at": now,
            "updated_at": now,
            "state": {"last_scheduled_at": now},
        }
        self.store.create_source(doc)
        self.runtime.identities.bump_generation()  # a new identity namespace
        log.info("data source created", extra={"data_source_id": spec.name, "type": spec.type})
        return to_model(doc)

    def list(self) -> builtins.list[DataSource]:
        return [to_model(doc) for doc in self.store.list_sources()]

    def identity_scopes(self) -> dict[str, bool]:
        """Each data source's identity namespace: its id, and whether it ignores case in ids."""
        return {s.id: case_insensitive_ids(s.type, s.config) for s in self.list()}

    def get(self, data_source_id: str) -> DataSource:
        doc, _, _ = self.store.source_doc(data_source_id)
        return to_model(doc)

    def update(self, data_source_id: str, spec: DataSourceSpec) -> DataSource:
        """Replace the spec; a new type or config forgets the last checkpoint (next sync is full)."""
        if spec.name != data_source_id:
            raise BadRequest(
                f"a data source cannot be renamed ({data_source_id!r} → {spec.name!r})"
            )
        connector_for(spec.type, spec.config, data_source_id)
        # Under the start lock, no job can start between the active-job check and the write.
        lock = start_lock(self.runtime.settings, data_source_id)
        if not lock.acquire(wait_s=START_LOCK_WAIT_S):
            raise Conflict(f"a sync job of {data_source_id!r} is being started; retry")
        try:
            for _ in range(UPDATE_ATTEMPTS):
                doc = self._replace(data_source_id, spec)
                if doc is not None:
                    break
            else:
                raise Conflict(f"data source {data_source_id!r} keeps changing; retry")
        finally:
            lock.release()
        self.runtime.identities.bump_generation()  # its id case rule may have changed
        log.info("data source updated", extra={"data_source_id": data_source_id})
        return to_model(doc)

    def _replace(self, data_source_id: str, spec: DataSourceSpec) -> dict[str, Any] | None:
        """Write the new spec over the version read; None if the sync state moved meanwhile."""
        old, seq_no, primary_term = self.store.source_doc(data_source_id)
        state = dict(old.get("state") or {})
        if state.get("deleting"):
            raise Conflict(f"data source {data_source_id!r} is being deleted")
        now = datetime.now(UTC).isoformat()
        if spec.type != old["type"] or spec.config != old["config"]:
            running = active_job(self.store, old)
            if running is not None:
                raise Conflict(
                    f"data source {data_source_id!r} has an active sync job ({running.id}); "
                    "stop it or wait before changing its type or config"
                )
            self.store.forget_good_checkpoint(data_source_id)
            state["checkpoint_job_id"] = None
        if spec.schedule != old.get("schedule"):
            state["last_scheduled_at"] = now
        doc = {
            **spec.model_dump(mode="json"),
            "id": data_source_id,
            "created_at": old["created_at"],
            "updated_at": now,
            "state": state,
        }
        return doc if self.store.replace_source(doc, seq_no, primary_term) else None

    def delete(self, data_source_id: str) -> int:
        """Remove the source, its documents, identity records and job history.

        Returns the number of documents removed from the index.
        """
        lock = start_lock(self.runtime.settings, data_source_id)
        if not lock.acquire(wait_s=START_LOCK_WAIT_S):
            raise Conflict(f"a sync job of {data_source_id!r} is being started; retry")
        try:
            doc, _, _ = self.store.source_doc(data_source_id)
            running = active_job(self.store, doc)
            if running is not None:
                raise Conflict(
                    f"data source {data_source_id!r} has an active sync job ({running.id}); "
                    "stop it before deleting the data source"
                )
            # From here on no job can start: start() refuses a source that is being deleted.
            self.store.set_state(data_source_id, {"deleting": True}, refresh="wait_for")
        finally:
            lock.release()
        removed, _ = delete_matching(
            self.runtime.es,
            self.runtime.settings.docs_alias,
            {"term": {"data_source_id": data_source_id}},
        )
        self.runtime.identities.delete_source(data_source_id)
        self.store.delete_history(data_source_id)
        self.store.delete_source_doc(data_source_id)
        log.info(
            "data source deleted",
            extra={"data_source_id": data_source_id, "documents_removed": removed},
        )
        return removed

    def check(self, data_source_id: str) -> CheckResult:
        """Build the connector from the stored config and ask it to check its source."""
        source = self.get(data_source_id)
        connector = connector_for(source.type, source.config, source.id)
        try:
            return connector.check()
        except ConnectorError as exc:
            return CheckResult(ok=False, message=exc.message, details={"code": exc.code})
        except Exception as exc:  # a check must answer, not crash the caller
            log.warning(
                "connector check raised",
                extra={"data_source_id": data_source_id, "error": type(exc).__name__},
            )
            return CheckResult(ok=False, message=f"check failed: {type(exc).__name__}: {exc}")
