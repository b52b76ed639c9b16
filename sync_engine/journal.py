"""Exact counts across replays: what the current attempt wrote since its last checkpoint.

A crash between a batch's write and the next checkpoint replays that batch (at most one
batch) on resume. The replay finds the documents already there, with the same content, and
would count them as unchanged although this job added or modified them. So before the index
changes, the crawl journals the batch's verdicts (ids added, ids modified) next to the job's
checkpoint; a replay reads the journal and restores them. The journal is emptied at every
checkpoint, whose saved progress already counts those items.
"""

from __future__ import annotations

from typing import Any

from elasticsearch import NotFoundError

from search.pipeline import BatchStats
from sync_engine.store import SyncStore


class Journal:
    def __init__(self, store: SyncStore, job_id: str, data_source_id: str) -> None:
        self.store = store
        self.doc_id = f"journal:{job_id}"
        self.job_id = job_id
        self.data_source_id = data_source_id
        self.added: set[str] = set()
        self.modified: set[str] = set()

    def load(self) -> None:
        self.store.ensure()
        try:
            found = self.store.es.get(index=self.store.checkpoints, id=self.doc_id)
        except NotFoundError:
            return
        source: dict[str, Any] = dict(found.body).get("_source") or {}
        self.added = set(source.get("added") or [])
        self.modified = set(source.get("modified") or [])

    def note(self, added: list[str], modified: list[str]) -> None:
        """Called before the index changes (``Pipeline.write_batch``'s ``before_write``)."""
        new_added = set(added) - self.added
        new_modified = set(modified) - self.modified - self.added
        if not new_added and not new_modified:
            return
        self.added |= new_added
        self.modified |= new_modified
        self._save()

    def reclassify(self, stats: BatchStats) -> None:
        """Replayed items keep the verdict their first write had."""
        unchanged: list[str] = []
        for doc_id in stats.unchanged:
            if doc_id in self.added:
                stats.added.append(doc_id)
            elif doc_id in self.modified:
                stats.modified.append(doc_id)
            else:
                unchanged.append(doc_id)
        stats.unchanged = unchanged
        modified: list[str] = []
        for doc_id in stats.modified:
            if doc_id in self.added:
                stats.added.append(doc_id)
            else:
                modified.append(doc_id)
        stats.modified = modified

    def clear(self) -> None:
        if not self.added and not self.modified:
            return
        self.added, self.modified = set(), set()
        self._save()

    def _save(self) -> None:
        self.store.ensure()
        self.store.es.index(
            index=self.store.checkpoints,
            id=self.doc_id,
            document={
                "data_source_id": self.data_source_id,
                "job_id": self.job_id,
                "added": sorted(self.added),
                "modified": sorted(self.modified),
            },
        )
