"""Quarry's own small indices (identities, data sources, jobs, query log): made on first use."""

from __future__ import annotations

import threading
from typing import Any

from elasticsearch import Elasticsearch

DEFAULT_SETTINGS: dict[str, Any] = {"number_of_shards": 1, "number_of_replicas": 0}


def ensure_index(
    es: Elasticsearch,
    index: str,
    mappings: dict[str, Any],
    settings: dict[str, Any] | None = None,
) -> None:
    """Create ``index`` if it is missing (losing a creation race to another process is fine).

    An index made by an older Quarry gets the fields its mapping has gained since, so a strict
    mapping never rejects the new fields' writes.
    """
    if es.indices.exists(index=index):
        es.indices.put_mapping(index=index, properties=mappings.get("properties", {}))
        return
    try:
        es.indices.create(index=index, settings=settings or DEFAULT_SETTINGS, mappings=mappings)
    except Exception:
        if not es.indices.exists(index=index):
            raise


class SystemIndex:
    """A system index, created on first use (once per process; losing a creation race is fine)."""

    index_settings: dict[str, Any] = {"number_of_shards": 1, "number_of_replicas": 0}
    index_mappings: dict[str, Any] = {"dynamic": "strict", "properties": {}}

    def __init__(self, es: Elasticsearch, index: str) -> None:
        self.es = es
        self.index = index
        self._ready = False
        self._lock = threading.Lock()

    def ensure(self) -> None:
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            ensure_index(self.es, self.index, self.index_mappings, self.index_settings)
            self._ready = True
