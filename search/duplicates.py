"""Exact duplicates: one result per content, with the other readable places it lives.

Two data sources (or two folders of one) that hold the same file index two documents with
the same extracted text. The ingest pipeline writes ``text_hash``, a hash of that text, and
the query path keeps the best-ranked of the readable documents sharing a hash; the others are
listed on it as ``also_in``. Everything here runs under the caller's filters (the ACL filter
first), so a copy the user may not read is neither shown nor mentioned.

The hash is SHA-256 of the extracted text with every run of whitespace collapsed to one
space and the ends stripped (case, punctuation and the title are kept: a different title
with the same body is still the same content). A document without extracted text (metadata
only, an empty file) has no hash and never collapses: empty bodies are not duplicates of
each other. Documents indexed before the field existed have no hash until a full sync
reads them again or ``quarry index reindex`` (see docs/duplicates.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from search.query import DocumentCopy

TEXT_HASH = "text_hash"
FOLDER = "folder"
MAX_COPIES = 20
"""The most other places listed on one result (the rest are not shown)."""
COPY_SOURCE = ["doc_id", "title", "source_uri", "data_source_id", FOLDER, TEXT_HASH]

T = TypeVar("T")


def text_hash(text: str | None) -> str | None:
    """The content hash of extracted text; None when there is no text to compare."""
    normalised = " ".join((text or "").split())
    if not normalised:
        return None
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def hash_of(hit: dict[str, Any]) -> str | None:
    """The hit's ``text_hash`` from its ``docvalue_fields`` (absent on older documents)."""
    values = hit.get("fields", {}).get(TEXT_HASH) or []
    return str(values[0]) if values else None


def collapse(ranked: Sequence[T], key: Callable[[T], str | None]) -> list[T]:
    """``ranked`` with every item whose key an earlier item has dropped (order kept)."""
    seen: set[str] = set()
    kept: list[T] = []
    for item in ranked:
        h = key(item)
        if h is not None:
            if h in seen:
                continue
            seen.add(h)
        kept.append(item)
    return kept


def distinct_aggs() -> dict[str, Any]:
    """Aggregations that count distinct contents among the matches (exact to ~3,000)."""
    return {
        "_distinct": {"cardinality": {"field": TEXT_HASH}},
        "_unhashed": {"missing": {"field": TEXT_HASH}},
    }


def distinct_total(aggregations: dict[str, Any]) -> int | None:
    """Documents without a hash plus distinct hashes; None when the aggregations are absent."""
    if "_distinct" not in aggregations or "_unhashed" not in aggregations:
        return None
    return int(aggregations["_distinct"]["value"]) + int(aggregations["_unhashed"]["doc_count"])


def copies_query(
    hashes: Iterable[str], shown: Sequence[str], filters: list[dict[str, Any]]
) -> dict[str, Any]:
    """The other documents holding these contents, under the same filters as the results."""
    return {
        "bool": {
            "filter": [{"terms": {TEXT_HASH: sorted(set(hashes))}}, *filters],
            "must_not": [{"ids": {"values": list(shown)}}],
        }
    }


def copies_collapse() -> dict[str, Any]:
    """One hit per content, its documents (up to ``MAX_COPIES``) as inner hits in a fixed order.

    Every document ``copies_query`` selects has a hash, so no group of hashless documents forms.
    """
    return {
        "field": TEXT_HASH,
        "inner_hits": {
            "name": "copies",
            "size": MAX_COPIES,
            "_source": COPY_SOURCE,
            "sort": [{"data_source_id": "asc"}, {"doc_id": "asc"}],
        },
    }


def group_copies(response: dict[str, Any]) -> dict[str, list[DocumentCopy]]:
    """Copies by content hash from a ``copies_query`` search collapsed by ``copies_collapse``."""
    grouped: dict[str, list[DocumentCopy]] = {}
    for hit in response["hits"]["hits"]:
        inner = hit.get("inner_hits", {}).get("copies", {}).get("hits", {}).get("hits", [])
        for copy in inner:
            src = copy["_source"]
            h = src.get(TEXT_HASH)
            if not h:
                continue
            grouped.setdefault(h, []).append(
                DocumentCopy(
                    id=src["doc_id"],
                    title=src.get("title") or "",
                    uri=src.get("source_uri"),
                    data_source_id=src.get("data_source_id"),
                    folder=src.get(FOLDER),
                )
            )
    return grouped
