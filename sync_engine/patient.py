"""The sync path's view of the search core: the same parts, on a patient Elasticsearch client.

A job's crawl writes through the one ingestion path (pipeline → index writer), the identity
store and the sync store, exactly as everything else does; only the client underneath retries
transient errors for ``sync_infra_patience_s`` (``sync_engine.retry``) instead of failing the
job at the first timeout. API requests keep the impatient client: a user should not wait 90 s.
"""

from __future__ import annotations

from functools import cached_property
from typing import cast

from elasticsearch import Elasticsearch

from search.embed import Embedder
from search.runtime import Runtime
from sync_engine.retry import patient_es
from sync_engine.store import SyncStore


class PatientRuntime(Runtime):
    """Shares the base runtime's settings, client and embedder (the model loads once)."""

    def __init__(self, base: Runtime) -> None:
        super().__init__(base.settings)
        self._base = base

    @cached_property
    def es(self) -> Elasticsearch:
        return cast(Elasticsearch, patient_es(self._base.es, self.settings))

    @cached_property
    def embedder(self) -> Embedder:
        return self._base.embedder


def patient_runtime(base: Runtime) -> Runtime:
    """One patient twin per runtime (cached on it)."""
    if isinstance(base, PatientRuntime):
        return base
    twin = base.__dict__.get("_patient_twin")
    if twin is None:
        twin = PatientRuntime(base)
        base.__dict__["_patient_twin"] = twin
    return cast(Runtime, twin)


def patient_store(runtime: Runtime) -> SyncStore:
    return SyncStore(patient_runtime(runtime).es, runtime.settings)
