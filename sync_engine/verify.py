"""``quarry verify``: is the index equal to the source? Enumerate, compare, optionally repair.

The source is enumerated by its connector from scratch (a forced-full pass that writes
nothing), each document is built as the pipeline would index it, and the index is compared
with that: missing documents, extra ones (in the index, not at the source), stale content
(content hash) and stale ACLs (the allow/deny fields). ``sample`` compares a random sample of
the source's documents (extra documents are still found from the full id list). ``repair``
fixes the drift through the one ingestion path (targeted re-writes and deletes) under the data
source's run lock, so it never runs beside a sync. Every verification is recorded.
"""

from __future__ import annotations

import logging
import random
import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from connectors.base import CrawlLimits
from connectors.models import Document, Failure, SyncMode
from search.errors import Conflict
from search.runtime import Runtime
from search.system_index import ensure_index
from sync_engine.datasources import connector_for
from sync_engine.locks import run_lock
from sync_engine.store import SyncStore

log = logging.getLogger(__name__)

ACL_FIELDS = ("acl_allow_users", "acl_allow_groups", "acl_deny_users", "acl_deny_groups")
SAMPLE_IDS = 100
MAPPING: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "id": {"type": "keyword"},
        "data_source_id": {"type": "keyword"},
        "started_at": {"type": "date"},
        "status": {"type": "keyword"},
    },
}


class Drift(BaseModel):
    missing: list[str] = Field(default_factory=list)
    extra: list[str] = Field(default_factory=list)
    stale_content: list[str] = Field(default_factory=list)
    stale_acl: list[str] = Field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.missing) + len(self.extra) + len(self.stale_content) + len(self.stale_acl)


class Verification(BaseModel):
    """A verification's record, shaped like a sync job's (id, status, timings, counts)."""

    id: str
    data_source_id: str
    status: str = Field(description="'clean', 'drift', 'repaired' or 'failed'.")
    started_at: datetime
    finished_at: datetime | None = None
    sample: int | None = None
    repair: bool = False
    source_documents: int = 0
    compared: int = 0
    unreadable: int = Field(default=0, description="Source items the connector failed to read.")
    drift: int = Field(default=0, description="Missing + extra + stale content + stale ACL.")
    missing: list[str] = Field(default_factory=list, description=f"First {SAMPLE_IDS} ids.")
    extra: list[str] = Field(default_factory=list)
    stale_content: list[str] = Field(default_factory=list)
    stale_acl: list[str] = Field(default_factory=list)
    repaired: int = 0
    error: str | None = None


def _sorted(value: Any) -> list[str]:
    return sorted(value or [])


class Verifier:
    def __init__(self, runtime: Runtime, store: SyncStore) -> None:
        self.runtime = runtime
        self.store = store
        self.index = runtime.settings.system_index("sync-verifications")
        self.index_settings = runtime.settings.index_settings("system")

    def run(
        self, data_source_id: str, sample: int | None = None, repair: bool = False
    ) -> Verification:
        source, _, _ = self.store.source_doc(data_source_id)
        record = Verification(
            id=uuid.uuid4().hex,
            data_source_id=data_source_id,
            status="running",
            started_at=datetime.now(UTC),
            sample=sample,
            repair=repair,
        )
        lock = run_lock(self.runtime.settings, data_source_id) if repair else None
        if lock is not None and not lock.acquire():
            raise Conflict(f"a sync of {data_source_id!r} is running: repair after it ends")
        try:
            self._verify(source, record, lock is not None)
        except Exception as exc:
            record.status, record.error = "failed", f"{type(exc).__name__}: {exc}"[:500]
            self._save(record)
            raise
        finally:
            if lock is not None:
                lock.release()
        self._save(record)
        return record

    def history(self, data_source_id: str, limit: int = 20) -> list[Verification]:
        """The source's last verifications, newest first (the source must exist)."""
        self.store.source_doc(data_source_id)  # NotFound for an unknown data source
        ensure_index(self.runtime.es, self.index, MAPPING, self.index_settings)
        response = self.runtime.es.search(
            index=self.index,
            size=limit,
            query={"term": {"data_source_id": data_source_id}},
            sort=[{"started_at": "desc"}],
        )
        return [Verification.model_validate(h["_source"]) for h in response.body["hits"]["hits"]]

    def _verify(self, source: dict[str, Any], record: Verification, repair: bool) -> None:
        ds = record.data_source_id
        connector = connector_for(source["type"], source["config"], ds)
        limits = CrawlLimits(max_content_bytes=self.runtime.settings.max_content_bytes)
        docs: dict[str, Document] = {}
        unreadable: set[str] = set()
        for item in connector.crawl(SyncMode.FORCED_FULL, None, limits):
            if isinstance(item, Document):
                docs[item.id] = item
            elif isinstance(item, Failure):
                unreadable.add(item.id)
        record.source_documents, record.unreadable = len(docs), len(unreadable)
        indexed = self._indexed_ids(ds)
        compare = list(docs)
        if record.sample is not None and record.sample < len(compare):
            compare = random.sample(compare, record.sample)
        record.compared = len(compare)
        drift = Drift()
        pipeline = self.runtime.pipeline
        for start in range(0, len(compare), 200):
            chunk = compare[start : start + 200]
            stored = self.runtime.writer.existing(chunk, ["doc_id", "content_hash", *ACL_FIELDS])
            for doc_id in chunk:
                have = stored.get(doc_id)
                if have is None:
                    drift.missing.append(doc_id)
                    continue
                want = pipeline.fingerprint(ds, docs[doc_id])
                if any(_sorted(have.get(f)) != _sorted(want.get(f)) for f in ACL_FIELDS):
                    drift.stale_acl.append(doc_id)
                elif have.get("content_hash") != want["content_hash"]:
                    drift.stale_content.append(doc_id)
        # A document the connector could not read keeps its last copy: not extra.
        drift.extra = sorted(indexed - docs.keys() - unreadable)
        record.drift = drift.total
        for name in ("missing", "extra", "stale_content", "stale_acl"):
            setattr(record, name, sorted(getattr(drift, name))[:SAMPLE_IDS])
        record.status = "clean" if drift.total == 0 else "drift"
        if repair and drift.total:
            rewrite = [docs[i] for i in drift.missing + drift.stale_content + drift.stale_acl]
            job = f"verify-{record.id}"
            written = 0
            for start in range(0, len(rewrite), self.runtime.settings.bulk_batch_docs):
                stats = pipeline.write_batch(
                    ds, rewrite[start : start + self.runtime.settings.bulk_batch_docs], job
                )
                written += len(stats.added) + len(stats.modified)
            removed = self.runtime.writer.delete(drift.extra)
            self.runtime.writer.refresh()
            record.repaired = written + len(removed.ok)
            record.status = "repaired"
            log.warning(
                "verification repaired drift",
                extra={"data_source_id": ds, "drift": drift.total, "repaired": record.repaired},
            )
        record.finished_at = datetime.now(UTC)

    def _indexed_ids(self, data_source_id: str) -> set[str]:
        es = self.runtime.es
        alias = self.runtime.settings.docs_alias
        es.indices.refresh(index=alias)
        ids: set[str] = set()
        after: list[Any] | None = None
        while True:
            body: dict[str, Any] = {
                "query": {"term": {"data_source_id": data_source_id}},
                "size": 1000,
                "sort": [{"doc_id": "asc"}],
                "_source": ["doc_id"],
            }
            if after is not None:
                body["search_after"] = after
            hits = es.search(index=alias, **body).body["hits"]["hits"]
            if not hits:
                return ids
            ids.update(h["_source"]["doc_id"] for h in hits)
            after = hits[-1]["sort"]

    def _save(self, record: Verification) -> None:
        ensure_index(self.runtime.es, self.index, MAPPING, self.index_settings)
        self.runtime.es.index(
            index=self.index, id=record.id, document=record.model_dump(mode="json"), refresh=True
        )
