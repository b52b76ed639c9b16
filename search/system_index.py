"""Quarry's own small indices (identities, data sources, jobs, query log): made on first use.

Every index, system or document, gets its shards and replicas from ``Settings.index_settings``
(``QUARRY_ES_SHARDS``, ``QUARRY_ES_SYSTEM_SHARDS``, ``QUARRY_ES_REPLICAS``): one rule, no
per-index exceptions.
"""

from __future__ import annotations

import threading
from typing import Any

from elasticsearch import Elasticsearch

from search.es import msearch
from search.settings import replica_settings

DEFAULT_SETTINGS: dict[str, Any] = {"number_of_shards": 1, **replica_settings(None)}
"""What ``Settings().index_settings("system")`` gives without environment (for tests' stores)."""

_REPLICA_KEYS = ("auto_expand_replicas", "number_of_replicas")


def apply_replicas(es: Elasticsearch, index: str, settings: dict[str, Any]) -> None:
    """Give an existing index the configured replicas (a dynamic setting; shards are fixed).

    Writes only when they differ, so starting another process costs one read.
    """
    wanted = {k: str(v).lower() for k, v in settings.items() if k in _REPLICA_KEYS}
    if not wanted:
        return
    current = es.indices.get_settings(index=index, flat_settings=True).body
    for name, body in current.items():
        have = body.get("settings", {})
        if (
            "number_of_replicas" not in wanted
            and have.get("index.auto_expand_replicas") == (wanted["auto_expand_replicas"])
        ):
            continue
        if "number_of_replicas" in wanted and (
            have.get("index.number_of_replicas") == wanted["number_of_replicas"]
            and have.get("index.auto_expand_replicas", "false") == "false"
        ):
            continue
        es.indices.put_settings(index=name, settings={"index": wanted})


def ensure_index(
    es: Elasticsearch,
    index: str,
    mappings: dict[str, Any],
    settings: dict[str, Any] | None = None,
) -> None:
    """Create ``index`` if it is missing (losing a creation race to another process is fine).

    An index made by an older Quarry gets the fields its mapping has gained since, so a strict
    mapping never rejects the new fields' writes, and the configured replicas.
    """
    settings = settings or DEFAULT_SETTINGS
    if es.indices.exists(index=index):
        es.indices.put_mapping(index=index, properties=mappings.get("properties", {}))
        apply_replicas(es, index, settings)
        return
    try:
        es.indices.create(index=index, settings=settings, mappings=mappings)
    except Exception:
        if not es.indices.exists(index=index):
            raise


class SystemIndex:
    """A system index, created on first use (once per process; losing a creation race is fine)."""

    index_mappings: dict[str, Any] = {"dynamic": "strict", "properties": {}}

    def __init__(
        self, es: Elasticsearch, index: str, index_settings: dict[str, Any] | None = None
    ) -> None:
        self.es = es
        self.index = index
        self.index_settings = index_settings
        """Shards and replicas (``Settings.index_settings("system")``)."""
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


def lookup_all(
    es: Elasticsearch, searches: list[tuple[str, dict[str, Any]]]
) -> list[dict[str, Any]]:
    """Searches of several system indices in one round trip; a missing index answers with no
    hits (it is made on first write)."""
    if not searches:
        return []
    return msearch(es, [({"index": i, "ignore_unavailable": True}, b) for i, b in searches])
