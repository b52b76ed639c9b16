"""Featured results: documents an administrator pins to query texts (Kendra's featured results sets).

A set maps exact query texts (compared without regard to case and spacing) and single query
terms to at most four documents. A query that matches an active set shows those documents
first, fetched with the searcher's ACL filter in the same request, so a pinned document the
user may not read is simply absent; the ranked results never repeat a pinned document.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError
from pydantic import BaseModel, ConfigDict, Field, field_validator

from acl import Principal
from search.errors import Conflict, NotFound
from search.faq import DEFAULT_INDEX
from search.filters import acl_filter
from search.query import ResultItem
from search.results import PAGE_SOURCE, page_query, result_item
from search.system_index import SystemIndex, lookup_all

MAX_DOCUMENTS = 4
MAX_QUERY_TEXTS = 49
_WORD = re.compile(r"\w+", re.UNICODE)


def normalise(text: str) -> str:
    """The form query texts are compared in: lower case, single spaces."""
    return " ".join(text.lower().split())


def terms(text: str) -> list[str]:
    return sorted(set(_WORD.findall(text.lower())))


class FeaturedStatus(str, Enum):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"


class FeaturedSetSpec(BaseModel):
    """What an administrator pins: query texts and terms → up to four document ids."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=1000)
    status: FeaturedStatus = FeaturedStatus.ACTIVE
    query_texts: list[str] = Field(
        default_factory=list,
        max_length=MAX_QUERY_TEXTS,
        description="Exact queries (case and spacing ignored) that show the documents.",
    )
    query_terms: list[str] = Field(
        default_factory=list,
        max_length=MAX_QUERY_TEXTS,
        description="Single words: any query containing one shows the documents.",
    )
    document_ids: list[str] = Field(
        min_length=1,
        max_length=MAX_DOCUMENTS,
        description="The pinned documents' ids, in the order they are shown.",
    )

    @field_validator("query_texts")
    @classmethod
    def _texts(cls, values: list[str]) -> list[str]:
        cleaned = [normalise(v) for v in values]
        for v in cleaned:
            if not v or len(v) > 1000:
                raise ValueError("each query text needs 1 to 1000 characters")
        return sorted(set(cleaned))

    @field_validator("query_terms")
    @classmethod
    def _terms(cls, values: list[str]) -> list[str]:
        out: list[str] = []
        for v in values:
            words = _WORD.findall(v.lower())
            if len(words) != 1 or len(words[0]) > 100:
                raise ValueError(f"a query term is one word, got {v!r}")
            out.append(words[0])
        return sorted(set(out))

    @field_validator("document_ids")
    @classmethod
    def _documents(cls, values: list[str]) -> list[str]:
        if any(not v.strip() or len(v) > 1024 for v in values):
            raise ValueError("document ids need 1 to 1024 characters")
        if len(set(values)) != len(values):
            raise ValueError("a document is pinned at most once per set")
        return values


class FeaturedSet(FeaturedSetSpec):
    id: str
    index_id: str
    created_at: datetime
    updated_at: datetime


_KEYWORD = {"type": "keyword"}
_MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "index_id": _KEYWORD,
        "status": _KEYWORD,
        "query_texts": _KEYWORD,
        "query_terms": _KEYWORD,
        "meta": {"type": "object", "enabled": False},
        "created_at": {"type": "date"},
    },
}


class FeaturedStore(SystemIndex):
    """Featured results sets, one record each; a query text or term belongs to one active set."""

    index_mappings = _MAPPING

    def _conflicts(self, spec: FeaturedSetSpec, index_id: str, own: str | None) -> None:
        if spec.status is not FeaturedStatus.ACTIVE or not (spec.query_texts or spec.query_terms):
            return
        should: list[dict[str, Any]] = []
        if spec.query_texts:
            should.append({"terms": {"query_texts": spec.query_texts}})
        if spec.query_terms:
            should.append({"terms": {"query_terms": spec.query_terms}})
        hits = self.es.search(
            index=self.index,
            size=10,
            query={
                "bool": {
                    "filter": [{"term": {"index_id": index_id}}, {"term": {"status": "ACTIVE"}}],
                    "should": should,
                    "minimum_should_match": 1,
                    "must_not": [{"ids": {"values": [own]}}] if own else [],
                }
            },
        ).body["hits"]["hits"]
        if hits:
            other = hits[0]["_source"]["meta"]
            taken = sorted(
                (set(spec.query_texts) & set(other["query_texts"]))
                | (set(spec.query_terms) & set(other["query_terms"]))
            )
            raise Conflict(
                f"query texts or terms {taken} already belong to the active featured results "
                f"set {other['id']!r}"
            )

    def _write(self, item: FeaturedSet) -> None:
        self.es.index(
            index=self.index,
            id=item.id,
            document={
                "index_id": item.index_id,
                "status": item.status.value,
                "query_texts": item.query_texts,
                "query_terms": item.query_terms,
                "meta": item.model_dump(mode="json"),
                "created_at": item.created_at.isoformat(),
            },
            refresh="true",
        )

    def create(self, spec: FeaturedSetSpec, index_id: str = DEFAULT_INDEX) -> FeaturedSet:
        self.ensure()
        self._conflicts(spec, index_id, None)
        now = datetime.now(UTC)
        item = FeaturedSet(
            **spec.model_dump(),
            id=str(uuid.uuid4()),
            index_id=index_id,
            created_at=now,
            updated_at=now,
        )
        self._write(item)
        return item

    def get(self, set_id: str, index_id: str = DEFAULT_INDEX) -> FeaturedSet:
        self.ensure()
        try:
            src = self.es.get(index=self.index, id=set_id).body["_source"]
        except NotFoundError:
            src = None
        if src is None or src.get("index_id") != index_id:
            raise NotFound(f"no featured results set with id {set_id!r}")
        return FeaturedSet(**src["meta"])

    def list_all(self, index_id: str = DEFAULT_INDEX) -> list[FeaturedSet]:
        self.ensure()
        hits = self.es.search(
            index=self.index,
            size=1000,
            query={"term": {"index_id": index_id}},
            sort=[{"created_at": "asc"}],
        ).body["hits"]["hits"]
        return [FeaturedSet(**h["_source"]["meta"]) for h in hits]

    def update(
        self, set_id: str, spec: FeaturedSetSpec, index_id: str = DEFAULT_INDEX
    ) -> FeaturedSet:
        old = self.get(set_id, index_id)
        self._conflicts(spec, index_id, set_id)
        item = FeaturedSet(
            **spec.model_dump(),
            id=old.id,
            index_id=index_id,
            created_at=old.created_at,
            updated_at=datetime.now(UTC),
        )
        self._write(item)
        return item

    def delete(self, set_id: str, index_id: str = DEFAULT_INDEX) -> FeaturedSet:
        old = self.get(set_id, index_id)
        self.es.delete(index=self.index, id=set_id, refresh="true")
        return old

    # ----- the query path
    def pinned(self, text: str, index_id: str = DEFAULT_INDEX) -> list[str]:
        """The document ids pinned to ``text``: exact query texts first, then terms; at most 4."""
        [response] = lookup_all(self.es, [(self.index, self.pinned_search(text, index_id))])
        return self.pinned_from(response, text)

    def pinned_search(self, text: str, index_id: str = DEFAULT_INDEX) -> dict[str, Any]:
        """The search for the sets ``text`` matches (``pinned_from`` reads its response), so
        the query path asks it together with its other lookups."""
        words = terms(text)
        should: list[dict[str, Any]] = [{"term": {"query_texts": normalise(text)}}]
        if words:
            should.append({"terms": {"query_terms": words}})
        return {
            "size": 20,
            "query": {
                "bool": {
                    "filter": [{"term": {"index_id": index_id}}, {"term": {"status": "ACTIVE"}}],
                    "should": should,
                    "minimum_should_match": 1,
                }
            },
            "sort": [{"created_at": "asc"}],
        }

    @staticmethod
    def pinned_from(response: dict[str, Any], text: str) -> list[str]:
        hits = response.get("hits", {}).get("hits", [])
        sets = [FeaturedSet(**h["_source"]["meta"]) for h in hits]
        exact = normalise(text)
        sets.sort(key=lambda s: 0 if exact in s.query_texts else 1)
        ids: list[str] = []
        for s in sets:
            for doc_id in s.document_ids:
                if doc_id not in ids:
                    ids.append(doc_id)
        return ids[:MAX_DOCUMENTS]


def exclusion(doc_ids: list[str]) -> dict[str, Any]:
    """A filter clause keeping pinned documents out of the ranked results (never shown twice)."""
    return {"bool": {"must_not": [{"terms": {"doc_id": doc_ids}}]}}


def featured_items(
    es: Elasticsearch, alias: str, doc_ids: list[str], text: str, principal: Principal
) -> list[ResultItem]:
    """The pinned documents this user may read, in pinned order, shaped like any result."""
    if not doc_ids:
        return []
    response = es.search(
        index=alias,
        size=len(doc_ids),
        query=page_query(text, [{"terms": {"doc_id": doc_ids}}, acl_filter(principal)]),
        source=PAGE_SOURCE,
    ).body
    by_id = {h["_source"]["doc_id"]: h for h in response["hits"]["hits"]}
    # Unreadable or no longer indexed pinned documents are simply absent.
    return [
        result_item(by_id[doc_id], None, 0.0, type="DOCUMENT", featured=True)
        for doc_id in doc_ids
        if doc_id in by_id
    ]
