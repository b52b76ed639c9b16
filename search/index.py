"""The document index behind an alias over versioned backing indices.

A mapping change is a reindex into a new backing index followed by an atomic alias swap, so
searches never see a missing or half-built index.

The mapping's ``_meta.embedding`` records the embedding space (model, backend, precision,
dimensions) its vectors were made in. Vectors of two spaces are never mixed: while the
configured embedder's space differs from the index's, ingestion and every query that needs a
query vector are refused (``ReindexRequired``) until ``quarry index reindex`` re-embeds the
passages in the configured space. BM25-only queries keep working.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from elasticsearch import Elasticsearch, NotFoundError

from search.duplicates import TEXT_HASH, text_hash
from search.embed import (
    DEFAULT_BACKEND,
    GPU_BACKEND,
    LEGACY_SPACE,
    EmbeddingSpace,
    cuda_visible,
    passage_text,
)
from search.embed_onnx import BACKENDS, Backend
from search.errors import BadRequest, ReindexRequired
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
SPACE_CHECK_TTL_S = 5.0
"""How long a process trusts its last look at the index's recorded embedding space."""

Encode = Callable[[Sequence[str]], Sequence[npt.NDArray[np.float32]]]


def backend_for(
    es: Elasticsearch, alias: str, configured: str, device: str | None = None
) -> Backend:
    """The embedding backend a process uses: the configured one, or for ``auto`` the one the
    index behind ``alias`` records (torch for an index older than the record). With no index
    yet: ``GPU_BACKEND`` where a CUDA GPU is visible (and ``device`` allows it), else
    ``DEFAULT_BACKEND``. So an upgrade never strands an index whose vectors another backend
    made; switching it is a deliberate ``quarry index reindex``."""
    if configured != "auto":
        if configured not in BACKENDS:
            raise ValueError(f"embedding backend: one of auto, {', '.join(BACKENDS)}")
        return configured  # type: ignore[return-value]
    fresh = DEFAULT_BACKEND
    if device != "cpu" and ((device or "").startswith("cuda") or cuda_visible()):
        fresh = GPU_BACKEND
    try:
        found = es.indices.get_mapping(index=alias).body
    except NotFoundError:
        return fresh
    for body in found.values():
        backend = (_recorded(body["mappings"]) or LEGACY_SPACE).backend
        return backend if backend in BACKENDS else fresh  # type: ignore[return-value]
    return fresh


def _recorded(mappings: dict[str, Any]) -> EmbeddingSpace | None:
    """The embedding space a mapping's ``_meta`` records; None for an index older than that."""
    meta = mappings.get("_meta") or {}
    return EmbeddingSpace.from_meta(meta["embedding"]) if "embedding" in meta else None


class IndexManager:
    """Creates, inspects, reindexes and deletes Quarry's document index."""

    def __init__(
        self,
        es: Elasticsearch,
        alias: str,
        english: bool | None = None,
        index_settings: dict[str, Any] | None = None,
        space: EmbeddingSpace = LEGACY_SPACE,
    ) -> None:
        self.es = es
        self.alias = alias
        self.space = space
        """The configured embedder's space: new indices record it, others must match it."""
        self._space_lock = threading.Lock()
        self._space_seen: tuple[float, str | None] | None = None
        """(when, mismatch message or None) of the last space check."""
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
                self.recorded_space(current)  # writes the record an older index lacks
                self._replicas_applied = True
            return current
        name = self._next_name()
        body = index_body(self.english_available(), self.index_settings, self.space)
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

    # ----- the embedding space the index's vectors were made in
    def recorded_space(self, index: str | None = None) -> EmbeddingSpace | None:
        """The space recorded by ``index`` (default: the current one); ``None`` without an index.

        An index that records none predates the record: its vectors can only come from the
        packaged model on torch fp32, the one embedder that existed, and that is written down.
        """
        index = index or self.current()
        if index is None:
            return None
        mapping = self.es.indices.get_mapping(index=index).body[index]["mappings"]
        found = _recorded(mapping)
        if found is not None:
            return found
        meta = {**(mapping.get("_meta") or {}), "embedding": LEGACY_SPACE.meta()}
        self.es.indices.put_mapping(index=index, meta=meta)
        log.info("recorded the embedding space of an older index", extra={"index": index})
        return LEGACY_SPACE

    def space_mismatch(self) -> str | None:
        """Why the configured embedder may not use the index's vectors; ``None`` when it may."""
        return self._mismatch(self.recorded_space())

    def _mismatch(self, recorded: EmbeddingSpace | None) -> str | None:
        if recorded is None or recorded.key == self.space.key:
            return None
        return (
            f"the index {self.alias} holds vectors of {recorded.describe()}, but the configured "
            f"embedder makes {self.space.describe()} (QUARRY_EMBEDDING_BACKEND="
            f"{self.space.backend}, QUARRY_EMBEDDING_MODEL); run `quarry index reindex` with "
            f"this setting to re-embed the passages, or set it back to {recorded.backend}"
        )

    def check_space(self) -> None:
        """Raise ``ReindexRequired`` when vectors of the configured embedder may not be written
        to or compared with the index; looks again every ``SPACE_CHECK_TTL_S`` seconds (at once
        after a reindex by this manager), so a process notices another's reindex quickly."""
        now = time.monotonic()
        seen = self._space_seen
        if seen is None or now - seen[0] > SPACE_CHECK_TTL_S:
            with self._space_lock:
                seen = self._space_seen
                if seen is None or now - seen[0] > SPACE_CHECK_TTL_S:
                    seen = (time.monotonic(), self.space_mismatch())
                    self._space_seen = seen
        if seen[1] is not None:
            raise ReindexRequired(seen[1])

    def reindex(self, encode: Encode | None = None) -> str:
        """Copy everything into a fresh backing index with the current mapping; swap the alias.

        When the index's vectors are of another space than the configured embedder's, every
        passage is embedded again with ``encode`` (the configured embedder's), and the new
        index records the configured space; otherwise vectors are copied as they are."""
        old = self.ensure()
        recorded = self.recorded_space(old) or self.space
        reembed = recorded.key != self.space.key
        if reembed and encode is None:
            raise ReindexRequired(
                f"reindexing {self.alias} into {self.space.describe()} re-embeds every passage "
                f"(its vectors are {recorded.describe()}): pass the configured embedder"
            )
        new = self._next_name()
        body = index_body(
            self.english_available(), self.index_settings, self.space if reembed else recorded
        )
        old_mapping = self.es.indices.get_mapping(index=old).body[old]["mappings"]
        attrs = old_mapping.get("properties", {}).get(ATTRIBUTE_PREFIX)
        if attrs:
            body["mappings"]["properties"][ATTRIBUTE_PREFIX] = attrs
        self.es.indices.create(index=new, settings=body["settings"], mappings=body["mappings"])
        self._copy(old, new, encode if reembed else None)
        self.es.indices.update_aliases(
            actions=[
                {"remove": {"index": old, "alias": self.alias}},
                {"add": {"index": new, "alias": self.alias}},
            ]
        )
        self.es.indices.delete(index=old)
        with self._space_lock:
            self._space_seen = None
        log.info(
            "reindexed",
            extra={"from": old, "to": new, "reembedded": reembed, "space": self.space.key},
        )
        return new

    def _copy(self, old: str, new: str, encode: Encode | None = None) -> None:
        """Copy every document with scroll + bulk (``_reindex`` is not in minimal distributions);
        with ``encode``, every passage's vector is made again from its title and text."""
        page = self.es.search(
            index=old, scroll="5m", size=500 if encode is None else 100, sort=["_doc"]
        )
        scroll_id = page.body.get("_scroll_id")
        try:
            while hits := page.body["hits"]["hits"]:
                if encode is not None:
                    _reembed([hit["_source"] for hit in hits], encode)
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
            "embedding": self.embedding_status(),
            "by_data_source": {b["key"]: b["doc_count"] for b in by_source},
        }

    def embedding_status(self) -> dict[str, Any]:
        """The recorded and configured spaces, and whether a reindex must re-embed (stats, readyz)."""
        recorded = self.recorded_space()
        mismatch = self._mismatch(recorded)
        return {
            "index": recorded.meta() if recorded is not None else None,
            "configured": self.space.meta(),
            "reindex_needed": mismatch is not None,
            **({"reason": mismatch} if mismatch else {}),
        }


def _reembed(sources: list[dict[str, Any]], encode: Encode) -> None:
    """Replace the passages' vectors of ``sources`` by ``encode``'s, in one call."""
    texts = [
        passage_text(source.get("title") or "", p.get("text", ""))
        for source in sources
        for p in source.get("passages") or []
    ]
    vectors = iter(encode(texts) if texts else [])
    for source in sources:
        for p in source.get("passages") or []:
            p["vector"] = np.asarray(next(vectors), dtype=np.float32).tolist()
