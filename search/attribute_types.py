"""Each document attribute's type as the index knows it, for faces that type their values.

Kendra types every attribute value (date, long, string list, string); the core keeps plain JSON
values and Elasticsearch's mapping knows each custom field's type, looked up once a minute.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError

from search.mapping import custom_attribute_types

RESERVED_TYPES = {"_created_at": "date", "_last_updated_at": "date", "_authors": "list"}


def read_custom_types(es: Elasticsearch, alias: str) -> dict[str, str]:
    """Custom attribute name → Elasticsearch type across the alias's backing indices (one
    mapping read; empty while there is no index)."""
    try:
        body: dict[str, Any] = es.indices.get_mapping(index=alias).body
    except NotFoundError:
        return {}
    types: dict[str, str] = {}
    for index in body.values():
        types.update(custom_attribute_types(index.get("mappings", {})))
    return types


class AttributeTypes:
    """Each custom attribute's Elasticsearch type, refreshed at most once a minute."""

    TTL_S = 60.0

    def __init__(self, es: Elasticsearch, alias: str) -> None:
        self.es = es
        self.alias = alias
        self._types: dict[str, str] = {}
        self._loaded = 0.0
        self._lock = threading.Lock()

    def kind(self, key: str) -> str:
        """``date``, ``long``, ``list`` (string list) or ``string``."""
        if key in RESERVED_TYPES:
            return RESERVED_TYPES[key]
        if key.startswith("_"):
            return "string"
        es_type = self._lookup().get(key)
        if es_type == "date":
            return "date"
        if es_type in ("long", "integer", "short", "byte"):
            return "long"
        return "string"

    def known(self) -> list[str]:
        """Custom attributes that some document carries."""
        return sorted(self._lookup())

    def _lookup(self) -> dict[str, str]:
        with self._lock:
            if time.monotonic() - self._loaded < self.TTL_S:
                return self._types
            try:
                found = read_custom_types(self.es, self.alias)
            except Exception:  # unknown types read as strings; the next call retries
                return self._types
            self._types, self._loaded = found, time.monotonic()
            return found
