"""The document index behind an alias over versioned backing indices.

A mapping change is a reindex into a new backing index followed by an atomic alias swap, so
searches never see a missing or half-built index.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError

from search.duplicates import TEXT_HASH, text_hash
from search.errors import BadRequest
from search.mapping import (
    ACL_FIELDS,
    ADDED_FIELDS,
    ATTRIBUTE_PREFIX,
    ATTRIBUTE_TYPES,
    custom_attribute_types,
    index_body,
)
from search.system_index import DEFAULT_SETTINGS, apply_replicas

log = logging.getLogger(__name__)

_VERSION = re.compile(r"-v(\d{6})$")


class IndexManager:
    """Creates, inspects, reindexes and deletes Quarry's document index."""

    def __init__(
        self,
        es: Elasticsearch,
        alias: str,
        english: bool | None = None,
        index_settings: dict[str, Any] | None = None,
    ) -> None:
        self.es = es
        self.alias = alias
        self.index_settings = index_settings or DEFAULT_SETTINGS
        """Shards and replicas (``Settings.index_settings("documents")``)."""
        self._replicas_applied = False
        self._english = english
        """None: English analysis whenever the node has Quarry's plugin; False: never (to measure)."""

    def english_available(self) -> bool:
        """True when Quarry's English analysis plugin is installed on every node."""
        if self._english is False:
            return False
        try:
            self.es.indices.analyze(analyzer="quarry_english", text="running")
        except Exception:  # the node answers 400 when the analyzer is unknown
            return False
        return True

    def backing_indices(self) -> list[str]:
        try:
            found = self.es.indices.get_alias(name=self.alias)
        except NotFoundError:
            return []
        return sorted(found.body.keys())

    def current(self) -> str | None:
        indices = self.backing_indices()
        return indices[-1] if indices else None

    def _next_name(self) -> str:
        existing = self.es.indices.get(index=f"{self.alias}-v*", allow_no_indices=True)
        versions = [int(m.group(1)) for name in existing.body if (m := _VERSION.search(name))]
        return f"{self.alias}-v{(max(versions) if versions else 0) + 1:06d}"

    def ensure(self) -> str:
        """Create the first backing index and the alias if they do not exist yet."""
        current = self.current()
        if current is not None:
            if not self._replicas_applied:
                apply_replicas(self.es, current, self.index_settings)
                self.add_fields()
                self._replicas_applied = True
            return current
        name = self._next_name()
        body = index_body(self.english_available(), self.index_settings)
        self.es.indices.create(index=name, settings=body["settings"], mappings=body["mappings"])
        self.es.indices.put_alias(index=name, name=self.alias)
        log.info("created document index", extra={"index": name, "alias": self.alias})
        return name

    def declare_attribute(self, name: str, type_: str) -> None:
        """Declare a custom attribute's type before documents carry it (like Kendra's index fields)."""
        if type_ not in ATTRIBUTE_TYPES:
            raise BadRequest(
                f"attribute type must be one of {sorted(ATTRIBUTE_TYPES)}, not {type_!r}"
            )
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]{0,99}", name):
            raise BadRequest(f"attribute name {name!r} must be letters, digits, '_' or '-'")
        self.ensure()
        props = {ATTRIBUTE_PREFIX: {"properties": {name: {"type": ATTRIBUTE_TYPES[type_]}}}}
        try:
            self.es.indices.put_mapping(index=self.alias, properties=props)
        except Exception as exc:
            raise BadRequest(f"attribute {name!r} cannot become {type_}: {exc}") from exc

    def add_fields(self) -> None:
        """Put fields newer than the index into its mapping (``ADDED_FIELDS``; idempotent).

        The mapping is strict, so without them a write from this version would be rejected."""
        self.es.indices.put_mapping(index=self.alias, properties=ADDED_FIELDS)

    def attribute_types(self) -> dict[str, str]:
        """Custom attributes known to the index, with their Elasticsearch field types."""
        current = self.current()
        if current is None:
            return {}
        mapping = self.es.indices.get_mapping(index=current).body[current]["mappings"]
        return custom_attribute_types(mapping)

    def needs_upgrade(self) -> bool:
        """True when the index predates the lower-cased ACL fields of case-insensitive sources.

        Such an index fails closed (their documents match nobody) until ``reindex``."""
        current = self.current()
        if current is None:
            return False
        mapping = self.es.indices.get_mapping(index=current).body[current]["mappings"]
        acl = mapping.get("properties", {}).get(ACL_FIELDS[0], {})
        return "lower" not in acl.get("fields", {})

    def reindex(self) -> str:
        """Copy everything into a fresh backing index with the current mapping; swap the alias."""
        old = self.ensure()
        new = self._next_name()
        body = index_body(self.english_available(), self.index_settings)
        old_mapping = self.es.indices.get_mapping(index=old).body[old]["mappings"]
        attrs = old_mapping.get("properties", {}).get(ATTRIBUTE_PREFIX)
        if attrs:
            body["mappings"]["properties"][ATTRIBUTE_PREFIX] = attrs
        self.es.indices.create(index=new, settings=body["settings"], mappings=body["mappings"])
        self._copy(old, new)
        self.es.indices.update_aliases(
            actions=[
                {"remove": {"index": old, "alias": self.alias}},
                {"add": {"index": new, "alias": self.alias}},
            ]
        )
        self.es.indices.delete(index=old)
        log.info("reindexed", extra={"from": old, "to": new})
        return new

    def _copy(self, old: str, new: str) -> None:
        """Copy every document with scroll + bulk (``_reindex`` is not in minimal distributions)."""
        page = self.es.search(index=old, scroll="5m", size=500, sort=["_doc"])
        scroll_id = page.body.get("_scroll_id")
        try:
            while hits := page.body["hits"]["hits"]:
                ops: list[dict[str, Any]] = []
                for hit in hits:
                    source = hit["_source"]
                    if TEXT_HASH not in source:  # indexed before the hash existed
                        source[TEXT_HASH] = text_hash(source.get("body"))
                    ops.append({"index": {"_index": new, "_id": hit["_id"]}})
                    ops.append(source)
                if self.es.bulk(operations=ops).body.get("errors"):
                    raise RuntimeError(f"reindex into {new} rejected documents; {old} is untouched")
                page = self.es.scroll(scroll_id=scroll_id, scroll="5m")
                scroll_id = page.body.get("_scroll_id")
        finally:
            if scroll_id:
                self.es.clear_scroll(scroll_id=scroll_id)
        self.es.indices.refresh(index=new)

    def delete(self) -> None:
        for name in self.backing_indices():
            self.es.indices.delete(index=name)

    def stats(self) -> dict[str, Any]:
        current = self.current()
        if current is None:
            return {
                "alias": self.alias,
                "index": None,
                "documents": 0,
                "passages": 0,
                "size_bytes": 0,
            }
        self.es.indices.refresh(index=self.alias)
        docs = self.es.count(index=self.alias).body["count"]
        raw = self.es.indices.stats(index=current).body["indices"][current]["primaries"]
        by_source = self.es.search(
            index=self.alias,
            size=0,
            aggs={"sources": {"terms": {"field": "data_source_id", "size": 1000}}},
        ).body["aggregations"]["sources"]["buckets"]
        return {
            "alias": self.alias,
            "index": current,
            "documents": docs,
            "passages": max(raw["docs"]["count"] - docs, 0),
            "size_bytes": raw["store"]["size_in_bytes"],
            "english_analysis": self.english_available(),
            "upgrade_needed": self.needs_upgrade(),
            "by_data_source": {b["key"]: b["doc_count"] for b in by_source},
        }
