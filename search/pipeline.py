"""The one ingestion path: crawl items → extract → chunk → embed → index writer.

Writes are idempotent (a document's index id is its source id, its content hash decides
whether it is re-embedded), so replaying a batch after a crash neither duplicates nor loses.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

from connectors.models import CrawlItem, Deletion, Document, Failure, GroupMembership
from search import metrics
from search.chunk import split_passages
from search.duplicates import FOLDER, TEXT_HASH, text_hash
from search.embed import Embedder, passage_text
from search.extract import extract
from search.identity import IdentityStore
from search.writer import IndexWriter, es_id

log = logging.getLogger(__name__)

FILE_TYPES = {
    "application/pdf": "PDF",
    "text/html": "HTML",
    "application/xhtml+xml": "HTML",
    "text/plain": "PLAIN_TEXT",
    "text/markdown": "MD",
    "text/csv": "CSV",
    "application/json": "JSON",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "MS_WORD",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "PPT",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "MS_EXCEL",
}

MAX_FAILURE_SAMPLES = 100

DERIVED_FIELDS = (TEXT_HASH, FOLDER)
"""Fields outside ``content_hash``: a document whose other fields are unchanged gets them by a
partial update, so adding them to an existing index re-embeds nothing (and verification,
which compares ``content_hash``, sees no change)."""


@dataclass
class BatchStats:
    """What one batch did; the sync engine adds these up into a job's history."""

    added: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    groups: int = 0
    passages: int = 0
    truncated: list[str] = field(default_factory=list)
    metadata_only: dict[str, str] = field(default_factory=dict)

    @property
    def scanned(self) -> int:
        return len(self.added) + len(self.modified) + len(self.unchanged) + len(self.failed)


def file_type(content_type: str | None, path: str | None) -> str | None:
    if content_type:
        base = content_type.split(";")[0].strip().lower()
        if base in FILE_TYPES:
            return FILE_TYPES[base]
    if path:
        suffix = PurePosixPath(path).suffix.lower().lstrip(".")
        return suffix.upper() or None
    return None


class Pipeline:
    """Turns crawl items into index writes for one data source."""

    def __init__(
        self,
        writer: IndexWriter,
        embedder: Embedder,
        identities: IdentityStore | None,
        max_document_chars: int = 500_000,
        check_vectors: Callable[[], None] | None = None,
    ) -> None:
        self.writer = writer
        self.embedder = embedder
        self.identities = identities
        self.max_document_chars = max_document_chars
        self.check_vectors = check_vectors
        """Raises when the embedder's vectors may not go into the index (another space)."""

    def write_batch(
        self,
        data_source_id: str,
        items: Sequence[CrawlItem],
        job_id: str | None = None,
        before_write: Callable[[list[str], list[str]], None] | None = None,
    ) -> BatchStats:
        """Write a batch; ``before_write(added, modified)`` hears the verdicts before the index
        changes (a sync journals them, so a replay after a crash still counts them exactly)."""
        started = time.perf_counter()
        stats = BatchStats()
        docs = [i for i in items if isinstance(i, Document)]
        for item in items:
            if isinstance(item, Failure):
                stats.failed[item.id] = item.reason
        memberships = [i for i in items if isinstance(i, GroupMembership)]
        if memberships:
            if self.identities is None:
                raise RuntimeError("group memberships need an identity store")
            self.identities.put_memberships(data_source_id, memberships, job_id)
            stats.groups += len(memberships)
        if docs:
            self._write_documents(data_source_id, docs, job_id, stats, before_write)
        deletions = [i.id for i in items if isinstance(i, Deletion)]
        if deletions:
            result = self.writer.delete(deletions)
            for doc_id in dict.fromkeys(deletions):
                reason = _failure(result.failed, doc_id)
                if reason is None:
                    stats.deleted.append(doc_id)
                else:
                    stats.failed[doc_id] = f"delete failed: {reason}"
        metrics.record_batch(stats, time.perf_counter() - started)
        return stats

    def _write_documents(
        self,
        data_source_id: str,
        docs: Sequence[Document],
        job_id: str | None,
        stats: BatchStats,
        before_write: Callable[[list[str], list[str]], None] | None = None,
    ) -> None:
        # The last occurrence of an id in a batch wins, as it would have at the source.
        unique = list({d.id: d for d in docs}.values())
        built: list[tuple[Document, dict[str, Any], list[str]]] = []
        for doc in unique:
            try:
                source, texts = self._build(data_source_id, doc, stats)
            except Exception as exc:  # one bad document never stops its batch
                log.warning("document failed", extra={"doc_id": doc.id, "error": str(exc)})
                stats.failed[doc.id] = f"{type(exc).__name__}: {exc}"[:500]
                continue
            built.append((doc, source, texts))
        previous = self.writer.existing(
            [d.id for d, _, _ in built], ["doc_id", "content_hash", *DERIVED_FIELDS]
        )
        changed = [
            (d, s, t)
            for d, s, t in built
            if previous.get(d.id, {}).get("content_hash") != s["content_hash"]
        ]
        same = [
            d.id
            for d, s, _ in built
            if previous.get(d.id, {}).get("content_hash") == s["content_hash"]
        ]
        all_texts = [t for _, _, texts in changed for t in texts]
        if all_texts and self.check_vectors is not None:
            self.check_vectors()  # never mixes vectors of two spaces in one index
        vectors = self.embedder.encode(all_texts) if all_texts else []
        offset = 0
        for _, source, texts in changed:
            for passage, vector in zip(
                source["passages"], vectors[offset : offset + len(texts)], strict=True
            ):
                passage["vector"] = vector.tolist()
            offset += len(texts)
            stats.passages += len(texts)
        now = datetime.now(UTC).isoformat()
        for _, source, _ in changed:
            source["sync_job"] = job_id
            source["indexed_at"] = now
        if before_write is not None and changed:
            before_write(
                [d.id for d, _, _ in changed if d.id not in previous],
                [d.id for d, _, _ in changed if d.id in previous],
            )
        result = self.writer.upsert([s for _, s, _ in changed])
        for doc, _, _ in changed:
            reason = _failure(result.failed, doc.id)
            if reason is not None:
                stats.failed[doc.id] = reason
            elif doc.id in previous:
                stats.modified.append(doc.id)
            else:
                stats.added.append(doc.id)
        if same:
            # Derived fields the stored copy lacks or has stale ride along with the touch.
            stale = {
                d.id: derived
                for d, s, _ in built
                if d.id in same
                and (derived := {f: s[f] for f in DERIVED_FIELDS})
                != {f: previous[d.id].get(f) for f in DERIVED_FIELDS}
            }
            touched = self.writer.touch(same, {"sync_job": job_id}, each=stale)
            for doc_id in same:
                reason = _failure(touched.failed, doc_id)
                if reason is not None:
                    stats.failed[doc_id] = reason
                else:
                    stats.unchanged.append(doc_id)

    def fingerprint(self, data_source_id: str, doc: Document) -> dict[str, Any]:
        """The fields the index would hold for ``doc`` (no vectors): what verification compares."""
        source, _ = self._build(data_source_id, doc, BatchStats())
        return source

    def _build(
        self, data_source_id: str, doc: Document, stats: BatchStats
    ) -> tuple[dict[str, Any], list[str]]:
        extracted = extract(
            content=doc.content,
            text=doc.text,
            content_type=doc.content_type,
            filename=doc.path or doc.title,
            max_chars=self.max_document_chars,
        )
        title = doc.title or extracted.title or (PurePosixPath(doc.path).name if doc.path else "")
        if extracted.truncated_chars or (
            doc.content_length is not None
            and doc.content is not None
            and doc.content_length > len(doc.content)
        ):
            stats.truncated.append(doc.id)
        if extracted.metadata_only_reason:
            stats.metadata_only[doc.id] = extracted.metadata_only_reason
        passages = split_passages(extracted.text, title)
        texts = [passage_text(title, p.text) for p in passages]
        acl = doc.acl
        source: dict[str, Any] = {
            "doc_id": doc.id,
            "data_source_id": data_source_id,
            "title": title,
            "body": extracted.text,
            "passages": [
                {"text": p.text, "index": p.index, "start": p.start, "end": p.end} for p in passages
            ],
            "source_uri": doc.source_uri,
            "created_at": _iso(doc.created_at),
            "last_updated_at": _iso(doc.modified_at),
            "authors": doc.authors,
            "category": doc.category,
            "file_type": file_type(doc.content_type, doc.path),
            "language_code": doc.language,
            "path": doc.path,
            # No ACL from the connector: nobody may read it (fail closed), so no allow entries.
            "acl_allow_users": acl.allow_users if acl else [],
            "acl_allow_groups": acl.allow_groups if acl else [],
            "acl_deny_users": acl.deny_users if acl else [],
            "acl_deny_groups": acl.deny_groups if acl else [],
            "truncated_chars": extracted.truncated_chars,
            "metadata_only_reason": extracted.metadata_only_reason,
            "attr": {k: _attr(v) for k, v in doc.attributes.items()},
        }
        source["content_hash"] = _hash(source)
        source[TEXT_HASH] = text_hash(extracted.text)
        source[FOLDER] = doc.folder or None
        return source, texts


def _failure(failed: dict[str, str], doc_id: str) -> str | None:
    """The writer's failure for ``doc_id``: it keys failures by index id (hashed when long)."""
    return failed.get(doc_id, failed.get(es_id(doc_id)))


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


def _attr(value: Any) -> Any:
    return _iso(value) if isinstance(value, datetime) else value


def _hash(source: dict[str, Any]) -> str:
    payload = json.dumps(source, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
