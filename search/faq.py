"""Frequently asked questions: uploaded in Kendra's FAQ file formats, answered on top of a query.

An administrator uploads a file of question/answer pairs (Kendra's ``CSV``, ``CSV_WITH_HEADER``
or ``JSON``); every pair is stored with the embedding of its question in one system index. A
query is answered by an FAQ when it matches the question closely enough, by meaning (cosine of
the embeddings) or by words (most of the query's words in the question with a looser meaning
threshold). An FAQ with an audience is shown only to its users and groups (global groups: an FAQ
belongs to no data source); without one it is public.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import numpy as np
from elasticsearch import Elasticsearch, NotFoundError
from elasticsearch.helpers import bulk
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from acl import Principal
from search.embed import DIMENSIONS, LEGACY_SPACE, Embedder, EmbeddingSpace
from search.errors import BadRequest, NotFound
from search.purge import delete_matching
from search.query import FaqAnswer
from search.system_index import SystemIndex, lookup_all

DEFAULT_INDEX = "default"
"""The index id FAQs of the REST API belong to (the Kendra face uses its index ids)."""
MAX_ENTRIES = 10_000
MAX_QUESTION_CHARS = 1000
MAX_ANSWER_CHARS = 4000
SEMANTIC_MIN = 0.80
"""Cosine between the query and a question at or above which the FAQ answers by meaning alone."""
LEXICAL_SEMANTIC_MIN = 0.55
"""With most of the query's words in the question, the meaning needs only this much."""
LEXICAL_MATCH = "75%"
"""How many of the query's words the question must hold for a lexical match."""


class FaqFormat(str, Enum):
    """Kendra's FAQ file formats."""

    CSV = "CSV"
    CSV_WITH_HEADER = "CSV_WITH_HEADER"
    JSON = "JSON"


class FaqEntry(BaseModel):
    """One question/answer pair, with Kendra's optional source URI and custom attributes."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    answer: str = Field(min_length=1, max_length=MAX_ANSWER_CHARS)
    source_uri: str | None = Field(default=None, max_length=2048)
    attributes: dict[str, Any] = Field(default_factory=dict)
    audience_users: list[str] = Field(default_factory=list, max_length=1000)
    audience_groups: list[str] = Field(default_factory=list, max_length=1000)


class FaqSpec(BaseModel):
    """An FAQ upload: the file's text in one of Kendra's formats, and who may see it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=1000)
    file_format: FaqFormat = FaqFormat.CSV
    content: str = Field(
        min_length=1, max_length=10_000_000, description="The FAQ file's text (UTF-8)."
    )
    audience_groups: list[str] = Field(
        default_factory=list,
        max_length=1000,
        description="Groups every entry is shown to (in addition to a JSON entry's own "
        "AccessControlList); none and no entry ACL: public.",
    )
    language_code: str = Field(default="en", max_length=10)


class Faq(BaseModel):
    """A stored FAQ (what list and describe return; the entries are not repeated here)."""

    id: str
    index_id: str
    name: str
    description: str | None = None
    file_format: FaqFormat
    audience_groups: list[str] = Field(default_factory=list)
    language_code: str = "en"
    entry_count: int
    created_at: datetime
    status: str = "ACTIVE"


# ----- the file formats
_RESERVED_COLUMNS = {"_question", "_answer", "_source_uri"}


def parse_faq(content: str, file_format: FaqFormat) -> list[FaqEntry]:
    """The entries of an FAQ file; a bad file is a ``BadRequest`` naming the line or entry."""
    if file_format is FaqFormat.JSON:
        entries = _parse_json(content)
    else:
        entries = _parse_csv(content, file_format is FaqFormat.CSV_WITH_HEADER)
    if not entries:
        raise BadRequest("content: the FAQ file holds no question")
    if len(entries) > MAX_ENTRIES:
        raise BadRequest(f"content: at most {MAX_ENTRIES} questions per FAQ, got {len(entries)}")
    return entries


def _entry(where: str, **values: Any) -> FaqEntry:
    try:
        return FaqEntry(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise BadRequest(f"content: {where}: {field}: {first['msg']}") from exc


def _parse_csv(content: str, header: bool) -> list[FaqEntry]:
    rows = [
        r for r in csv.reader(io.StringIO(content.lstrip("\ufeff"))) if any(c.strip() for c in r)
    ]
    if not rows:
        return []
    entries: list[FaqEntry] = []
    if not header:
        for line, row in enumerate(rows, start=1):
            if len(row) not in (2, 3):
                raise BadRequest(
                    f"content: line {line}: a CSV FAQ row is question,answer[,source URI]; "
                    f"got {len(row)} columns"
                )
            uri = row[2].strip() if len(row) == 3 and row[2].strip() else None
            entries.append(
                _entry(
                    f"line {line}", question=row[0].strip(), answer=row[1].strip(), source_uri=uri
                )
            )
        return entries
    names = [n.strip() for n in rows[0]]
    for required in ("_question", "_answer"):
        if required not in names:
            raise BadRequest(f"content: the header row has no {required} column")
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(names):
            raise BadRequest(
                f"content: line {line}: {len(row)} columns, the header names {len(names)}"
            )
        values = dict(zip(names, (c.strip() for c in row), strict=True))
        attrs = {k: v for k, v in values.items() if k not in _RESERVED_COLUMNS and v}
        entries.append(
            _entry(
                f"line {line}",
                question=values["_question"],
                answer=values["_answer"],
                source_uri=values.get("_source_uri") or None,
                attributes=attrs,
            )
        )
    return entries


def _parse_json(content: str) -> list[FaqEntry]:
    try:
        data = json.loads(content)
    except json.JSONDecodeError as exc:
        raise BadRequest(f"content: not JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("FaqDocuments"), list):
        raise BadRequest("content: a JSON FAQ is an object with a FaqDocuments list")
    entries: list[FaqEntry] = []
    for i, doc in enumerate(data["FaqDocuments"]):
        where = f"FaqDocuments[{i}]"
        if not isinstance(doc, dict):
            raise BadRequest(f"content: {where}: must be an object")
        attrs = doc.get("Attributes") or {}
        if not isinstance(attrs, dict):
            raise BadRequest(f"content: {where}.Attributes: must be an object")
        users, groups = _json_acl(where, doc.get("AccessControlList") or [])
        uri = attrs.get("_source_uri")
        entries.append(
            _entry(
                where,
                question=str(doc.get("Question") or "").strip(),
                answer=str(doc.get("Answer") or "").strip(),
                source_uri=str(uri) if uri else None,
                attributes={k: v for k, v in attrs.items() if k != "_source_uri"},
                audience_users=users,
                audience_groups=groups,
            )
        )
    return entries


def _json_acl(where: str, acl: Any) -> tuple[list[str], list[str]]:
    """Kendra's per-question AccessControlList. Only ALLOW entries narrow an audience; a DENY
    is refused rather than ignored, so an upload never shows a question more widely than meant."""
    if not isinstance(acl, list):
        raise BadRequest(f"content: {where}.AccessControlList: must be a list")
    users: list[str] = []
    groups: list[str] = []
    for j, item in enumerate(acl):
        at = f"content: {where}.AccessControlList[{j}]"
        if not isinstance(item, dict) or not str(item.get("Name") or "").strip():
            raise BadRequest(f"{at}: needs a Name")
        if str(item.get("Access", "ALLOW")).upper() != "ALLOW":
            raise BadRequest(f"{at}.Access: only ALLOW is supported for FAQs")
        kind = str(item.get("Type", "")).upper()
        if kind == "USER":
            users.append(str(item["Name"]).strip())
        elif kind == "GROUP":
            groups.append(str(item["Name"]).strip())
        else:
            raise BadRequest(f"{at}.Type: USER or GROUP, got {item.get('Type')!r}")
    return users, groups


# ----- the store
_KEYWORD = {"type": "keyword"}
_MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "kind": _KEYWORD,
        "faq_id": _KEYWORD,
        "index_id": _KEYWORD,
        "entry_id": _KEYWORD,
        "question": {"type": "text", "analyzer": "standard"},
        "answer": {"type": "text", "index": False},
        "source_uri": {"type": "keyword", "index": False},
        "attributes": {"type": "object", "enabled": False},
        "public": {"type": "boolean"},
        "audience_users": _KEYWORD,
        "audience_groups": _KEYWORD,
        "vector": {
            "type": "dense_vector",
            "dims": DIMENSIONS,
            "index": True,
            "similarity": "dot_product",
        },
        "meta": {"type": "object", "enabled": False},
        "created_at": {"type": "date"},
        "space": _KEYWORD,
    },
}


def space_filter(space: EmbeddingSpace) -> dict[str, Any]:
    """Entries whose question vector is in ``space``: vectors of two spaces are never compared
    (an entry stored before the record is the packaged model's torch fp32)."""
    same: list[dict[str, Any]] = [{"term": {"space": space.key}}]
    if space.key == LEGACY_SPACE.key:
        same.append({"bool": {"must_not": {"exists": {"field": "space"}}}})
    return {"bool": {"should": same, "minimum_should_match": 1}}


class FaqStore(SystemIndex):
    """FAQs and their entries in one system index: a ``faq`` record per upload, an ``entry``
    record per question (with its embedding)."""

    index_mappings = _MAPPING

    def __init__(self, es: Elasticsearch, index: str, embedder: Embedder) -> None:
        super().__init__(es, index)
        self.embedder = embedder

    def create(self, spec: FaqSpec, index_id: str = DEFAULT_INDEX) -> Faq:
        """Parse, embed and store an upload; nothing is stored when the file is bad."""
        entries = parse_faq(spec.content, spec.file_format)
        self.ensure()
        faq = Faq(
            id=uuid.uuid4().hex,
            index_id=index_id,
            name=spec.name,
            description=spec.description,
            file_format=spec.file_format,
            audience_groups=sorted(set(spec.audience_groups)),
            language_code=spec.language_code,
            entry_count=len(entries),
            created_at=datetime.now(UTC),
        )
        vectors = self.embedder.encode([e.question for e in entries])
        actions: list[dict[str, Any]] = []
        for n, (entry, vector) in enumerate(zip(entries, vectors, strict=True)):
            groups = sorted(set(entry.audience_groups) | set(faq.audience_groups))
            users = sorted(set(entry.audience_users))
            entry_id = f"{faq.id}-{n}"
            actions.append(
                {
                    "_index": self.index,
                    "_id": entry_id,
                    "kind": "entry",
                    "faq_id": faq.id,
                    "index_id": index_id,
                    "entry_id": entry_id,
                    "question": entry.question,
                    "space": self.embedder.space.key,
                    "answer": entry.answer,
                    "source_uri": entry.source_uri,
                    "attributes": entry.attributes,
                    "public": not groups and not users,
                    "audience_users": users,
                    "audience_groups": groups,
                    "vector": np.asarray(vector, dtype=np.float32).tolist(),
                }
            )
        bulk(self.es, actions, refresh=False)
        # The FAQ record is written last: an FAQ is listed only once all its entries are in.
        self.es.index(
            index=self.index,
            id=f"faq-{faq.id}",
            document={
                "kind": "faq",
                "faq_id": faq.id,
                "index_id": index_id,
                "meta": faq.model_dump(mode="json"),
                "created_at": faq.created_at.isoformat(),
            },
            refresh="true",
        )
        return faq

    def list_all(self, index_id: str = DEFAULT_INDEX) -> list[Faq]:
        self.ensure()
        hits = self.es.search(
            index=self.index,
            size=1000,
            query={
                "bool": {"filter": [{"term": {"kind": "faq"}}, {"term": {"index_id": index_id}}]}
            },
            sort=[{"created_at": "asc"}],
        ).body["hits"]["hits"]
        return [Faq(**h["_source"]["meta"]) for h in hits]

    def get(self, faq_id: str, index_id: str = DEFAULT_INDEX) -> Faq:
        self.ensure()
        try:
            src = self.es.get(index=self.index, id=f"faq-{faq_id}").body["_source"]
        except NotFoundError:
            src = None
        if src is None or src.get("index_id") != index_id:
            raise NotFound(f"no FAQ with id {faq_id!r}")
        return Faq(**src["meta"])

    def delete(self, faq_id: str, index_id: str = DEFAULT_INDEX) -> Faq:
        """Remove an FAQ and every one of its questions."""
        faq = self.get(faq_id, index_id)
        delete_matching(self.es, self.index, {"term": {"faq_id": faq_id}})
        return faq

    # ----- the query path
    def answers(
        self,
        text: str,
        principal: Principal,
        index_id: str = DEFAULT_INDEX,
        vector: Sequence[float] | None = None,
        limit: int = 1,
    ) -> list[FaqAnswer]:
        """The FAQs this user may see whose question matches ``text``, best first."""
        [probe] = lookup_all(self.es, [(self.index, self.probe_search(index_id))])
        if not self.any_in(probe):
            return []
        return self.matching(text, principal, index_id, vector, limit)

    def probe_search(self, index_id: str = DEFAULT_INDEX) -> dict[str, Any]:
        """Whether the index has any FAQ entry (``any_in`` reads it): most have none, and the
        query path then skips embedding and searching them."""
        return {
            "size": 0,
            "track_total_hits": 1,
            "query": {
                "bool": {"filter": [{"term": {"kind": "entry"}}, {"term": {"index_id": index_id}}]}
            },
        }

    @staticmethod
    def any_in(response: dict[str, Any]) -> bool:
        return int(response.get("hits", {}).get("total", {}).get("value", 0)) > 0

    def matching(
        self,
        text: str,
        principal: Principal,
        index_id: str = DEFAULT_INDEX,
        vector: Sequence[float] | None = None,
        limit: int = 1,
    ) -> list[FaqAnswer]:
        """``answers`` once ``probe_search`` found entries."""
        query_vector = np.asarray(
            vector if vector is not None else self.embedder.encode_query(text), dtype=np.float32
        )
        filters = [
            {"term": {"kind": "entry"}},
            {"term": {"index_id": index_id}},
            audience_filter(principal),
            # Entries embedded in another space (another backend) wait for a new upload.
            space_filter(self.embedder.space),
        ]
        source = ["faq_id", "entry_id", "question", "answer", "source_uri", "attributes", "vector"]
        searches: list[dict[str, Any]] = [
            {"index": self.index},
            {
                "size": 10,
                "_source": source,
                "knn": {
                    "field": "vector",
                    "query_vector": query_vector.tolist(),
                    "k": 10,
                    "num_candidates": 100,
                    "filter": filters,
                },
            },
            {"index": self.index},
            {
                "size": 10,
                "_source": source,
                "query": {
                    "bool": {
                        "must": [
                            {
                                "match": {
                                    "question": {
                                        "query": text,
                                        "minimum_should_match": LEXICAL_MATCH,
                                    }
                                }
                            }
                        ],
                        "filter": filters,
                    }
                },
            },
        ]
        dense, lexical = self.es.msearch(searches=searches).body["responses"]
        lexical_ids = {h["_id"] for h in lexical.get("hits", {}).get("hits", [])}
        found: dict[str, FaqAnswer] = {}
        for hit in [
            *dense.get("hits", {}).get("hits", []),
            *lexical.get("hits", {}).get("hits", []),
        ]:
            if hit["_id"] in found:
                continue
            src = hit["_source"]
            similarity = float(np.dot(query_vector, np.asarray(src["vector"], dtype=np.float32)))
            floor = LEXICAL_SEMANTIC_MIN if hit["_id"] in lexical_ids else SEMANTIC_MIN
            if similarity < floor:
                continue
            found[hit["_id"]] = FaqAnswer(
                faq_id=src["faq_id"],
                entry_id=src["entry_id"],
                question=src["question"],
                answer=src["answer"],
                uri=src.get("source_uri"),
                attributes=src.get("attributes") or {},
                score=round(similarity, 6),
            )
        return sorted(found.values(), key=lambda a: -a.score)[:limit]


def audience_filter(principal: Principal) -> dict[str, Any]:
    """Public FAQs, and those naming the user or one of the user's global groups."""
    should: list[dict[str, Any]] = [
        {"term": {"public": True}},
        {"terms": {"audience_groups": sorted(principal.groups_for(None))}},
    ]
    if principal.user is not None:
        should.append({"term": {"audience_users": principal.user}})
    return {"bool": {"should": should, "minimum_should_match": 1}}
