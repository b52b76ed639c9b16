"""What a search asks for and what it answers: the models shared by the API, CLI and benches."""

from __future__ import annotations

from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from search.filters import AttributeFilter
from search.relevance import AttributeRelevance, overrides_field, unique


class RetrievalMode(str, Enum):
    """Which stages run. ``rerank`` is the product; the others exist to measure it."""

    BM25 = "bm25"
    DENSE = "dense"
    HYBRID = "hybrid"
    RERANK = "rerank"


class SortOrder(str, Enum):
    ASC = "asc"
    DESC = "desc"


class Sort(BaseModel):
    model_config = ConfigDict(extra="forbid")

    attribute: str = "_relevance"
    order: SortOrder = SortOrder.DESC


class FacetRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    attribute: str = Field(min_length=1, max_length=200)
    max_results: int = Field(default=10, ge=1, le=100)


class QueryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query_text: str = Field(min_length=1)
    page_size: int = Field(default=10, ge=1)
    page_number: int = Field(default=1, ge=1)
    attribute_filter: AttributeFilter | None = None
    facets: list[FacetRequest] = Field(default_factory=list, max_length=20)
    sort: Sort | None = None
    requested_attributes: list[str] | None = None
    relevance_overrides: list[AttributeRelevance] = overrides_field()

    @field_validator("relevance_overrides")
    @classmethod
    def _once(cls, items: list[AttributeRelevance]) -> list[AttributeRelevance]:
        return unique(items)


class Highlight(BaseModel):
    begin: int
    end: int


class Excerpt(BaseModel):
    text: str
    highlights: list[Highlight] = Field(default_factory=list)


class DocumentCopy(BaseModel):
    """Another place a result's exact content lives (same ``text_hash``) that the user may read."""

    id: str
    title: str
    uri: str | None
    data_source_id: str | None
    folder: str | None = Field(default=None, description="Where it lives at its source.")


class ResultItem(BaseModel):
    id: str
    title: str
    uri: str | None
    excerpt: Excerpt
    score: float
    attributes: dict[str, Any]
    data_source_id: str | None
    passage_index: int | None = None
    folder: str | None = Field(
        default=None,
        description="Where the document lives at its source, e.g. an Alfresco site, container "
        "and folder (``marketing/documentLibrary/Plans/2026``) or a directory relative to a "
        "filesystem data source's root; absent for documents synced before it was recorded.",
    )
    also_in: list[DocumentCopy] = Field(
        default_factory=list,
        description="Other documents with exactly the same text that this search would also "
        "have returned (readable by the user, matching the filters), collapsed into this "
        "result; the first 5 (by data source and id).",
    )
    also_in_total: int = Field(
        default=0, description="How many such documents there are (``also_in`` lists 5 at most)."
    )
    type: str = Field(default="DOCUMENT", description="DOCUMENT (a ranked or featured document).")
    featured: bool = Field(
        default=False, description="Pinned by an administrator to this query (featured result)."
    )
    _answer_passages: list[tuple[int, str]] = PrivateAttr(default_factory=list)
    """(index, text) of the passages a suggested answer may come from, best first: read with
    the page, under its ACL filter, so answers need no request of their own. Never sent."""

    def answer_passages(self) -> list[tuple[int, str]]:
        return list(self._answer_passages)


class FacetValue(BaseModel):
    value: str
    count: int


class FacetResult(BaseModel):
    attribute: str
    values: list[FacetValue]


class FaqAnswer(BaseModel):
    """An FAQ whose question matched the query: shown on top of the results."""

    type: str = Field(default="QUESTION_ANSWER", description="Always QUESTION_ANSWER.")
    faq_id: str
    entry_id: str
    question: str
    answer: str
    uri: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    score: float = Field(description="Cosine similarity of the query and the question.")


class SuggestedAnswer(BaseModel):
    """The sentence of a readable passage that best answers the query (Kendra's ANSWER item)."""

    type: str = Field(default="ANSWER", description="Always ANSWER.")
    document_id: str
    title: str
    uri: str | None = None
    passage_index: int
    answer_text: str = Field(description="The answering sentence.")
    excerpt: Excerpt = Field(
        description="The passage holding the answer; its highlight is the sentence's offsets."
    )
    confidence: float = Field(description="0..1: meaning and word overlap with the query.")
    score_confidence: str = Field(description="VERY_HIGH, HIGH, MEDIUM or LOW (Kendra's).")


class QueryResponse(BaseModel):
    query_id: str
    total: int
    results: list[ResultItem]
    facets: list[FacetResult] = Field(default_factory=list)
    spell_suggestion: str | None = None
    answers: list[SuggestedAnswer] = Field(
        default_factory=list,
        description="ANSWER items: at most one suggested answer from the top results (page 1 "
        "only); empty when no sentence answers with enough confidence.",
    )
    faq_answers: list[FaqAnswer] = Field(
        default_factory=list,
        description="QUESTION_ANSWER items: FAQs whose question matches the query (page 1 only).",
    )
    featured_results: list[ResultItem] = Field(
        default_factory=list,
        description="Documents pinned to this query that the user may read, shown before "
        "``results`` (page 1 only); they never appear in ``results`` or ``total``.",
    )


class Passage(BaseModel):
    """A retrieved passage for retrieval-augmented generation."""

    text: str
    document_id: str
    title: str
    uri: str | None
    score: float
    passage_index: int


class RetrieveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query_text: str = Field(min_length=1)
    page_size: int = Field(default=10, ge=1)
    attribute_filter: AttributeFilter | None = None


class RetrieveResponse(BaseModel):
    query_id: str
    passages: list[Passage]
