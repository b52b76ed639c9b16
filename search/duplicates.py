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
from dataclasses import dataclass, field
from typing import Any, TypeVar

from search.query import DocumentCopy
from search.results import hit_id

TEXT_HASH = "text_hash"
FOLDER = "folder"
MAX_COPIES = 5
"""The most other places listed on one result; ``also_in_total`` counts them all (each
listed copy is a document fetched, and a template copied into 200 folders would otherwise
cost more than the search)."""
TITLE_KEYWORD = "title.raw"
COPY_FIELDS = ["doc_id", "source_uri", "data_source_id", FOLDER, TITLE_KEYWORD]
"""What a copy shows, read from doc values: parsing each copy's source (its passages and
vectors) would cost more than the search. A title too long for ``title.raw`` is read apart
(``untitled``)."""

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


HASHED = {"exists": {"field": TEXT_HASH}}


def unhashed(aggregations: dict[str, Any]) -> int:
    """How many matches have no hash (from ``distinct_aggs``)."""
    return int(aggregations.get("_unhashed", {}).get("doc_count", 0))


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


def copies_aggs(hashes: Sequence[str]) -> dict[str, Any]:
    """Each content's documents (up to ``MAX_COPIES``, in a fixed order) from one pass.

    An aggregation rather than a collapse with inner hits: those run the whole query again
    for each content, and a page of ten results with copies cost ten searches.
    """
    return {
        "copies": {
            "terms": {"field": TEXT_HASH, "size": max(1, len(hashes))},
            "aggs": {
                "first": {
                    "top_hits": {
                        "size": MAX_COPIES,
                        "sort": [{"data_source_id": "asc"}, {"doc_id": "asc"}],
                        "stored_fields": "_none_",  # see search.results.ids_only
                        "docvalue_fields": COPY_FIELDS,
                    }
                }
            },
        }
    }


@dataclass
class Copies:
    """The other readable copies of a page's contents, by content hash."""

    listed: dict[str, list[DocumentCopy]] = field(default_factory=dict)
    """The first ``MAX_COPIES`` of each content, in a fixed order."""
    counts: dict[str, int] = field(default_factory=dict)
    """How many there are of each content."""
    untitled: dict[str, DocumentCopy] = field(default_factory=dict)
    """Listed copies (by Elasticsearch id) whose title the doc values lack: they have none,
    or one too long for ``title.raw``; the caller reads it from the source."""


def group_copies(response: dict[str, Any]) -> Copies:
    """The copies a ``copies_query`` search aggregated by ``copies_aggs`` found."""
    found = Copies()
    buckets = response.get("aggregations", {}).get("copies", {}).get("buckets", [])
    for bucket in buckets:
        key = str(bucket["key"])
        found.counts[key] = int(bucket["doc_count"])
        listed = found.listed.setdefault(key, [])
        for hit in bucket["first"]["hits"]["hits"]:
            fields = hit.get("fields", {})

            def one(name: str, fields: dict[str, Any] = fields) -> str | None:
                values = fields.get(name) or []
                return str(values[0]) if values else None

            title = one(TITLE_KEYWORD)
            place = DocumentCopy(
                id=one("doc_id") or "",
                title=title or "",
                uri=one("source_uri"),
                data_source_id=one("data_source_id"),
                folder=one(FOLDER),
            )
            if title is None:
                found.untitled[hit_id(hit)] = place
            listed.append(place)
    return found
