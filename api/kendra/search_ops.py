"""Query, Retrieve and SubmitFeedback: the same engine, query log and feedback store as /v1.

Each operation resolves the index's user context to a principal first, so the engine's ACL
filter is that user's; the translation adds nothing to the ranking or the filtering.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from api.kendra import shapes
from api.kendra.attributes import parse_time, to_filter
from api.kendra.context import KendraContext
from api.kendra.errors import not_found, validation
from api.kendra.principals import principal
from api.kendra.relevance import overrides
from api.kendra.results import (
    facet_results,
    faq_items,
    featured_items,
    passage_confidence,
    query_items,
    spell_corrections,
)
from api.models import Click, FeedbackBody, Relevance
from search.extras import search_with_extras
from search.filters import AttributeFilter
from search.query import FacetRequest, QueryRequest, RetrieveRequest, Sort, SortOrder

log = logging.getLogger(__name__)

QUERY = "query"
RELEVANCE_KEYS = ("_relevance", "_document_relevance")
_QUERY = (
    "IndexId",
    "QueryText",
    "AttributeFilter",
    "Facets",
    "RequestedDocumentAttributes",
    "QueryResultTypeFilter",
    "PageNumber",
    "PageSize",
    "SortingConfiguration",
    "SortingConfigurations",
    "UserContext",
    "SpellCorrectionConfiguration",
    "DocumentRelevanceOverrideConfigurations",
)
_RETRIEVE = ("IndexId", "QueryText", "AttributeFilter", "PageNumber", "PageSize", "UserContext")


def _text(body: dict[str, Any]) -> str:
    text = shapes.string(body, "QueryText")
    if text is None or not text.strip():
        raise validation("QueryText is required: Quarry does not list documents by filter alone")
    return text


def _filter(body: dict[str, Any]) -> AttributeFilter | None:
    raw = body.get("AttributeFilter")
    return None if raw is None else to_filter(raw)


def _facets(body: dict[str, Any], warnings: list[str]) -> list[FacetRequest]:
    facets = []
    for i, facet in enumerate(shapes.objects(body, "Facets")):
        key = shapes.required(facet, "DocumentAttributeKey", 200, f"Facets[{i}].")
        size = facet.get("MaxResults") or 10
        if not isinstance(size, int) or size < 0:
            raise validation(f"Facets[{i}].MaxResults must be a positive integer")
        if size > 100:
            warnings.append(f"Facets[{i}].MaxResults: Quarry returns at most 100 values per facet")
            size = 100
        if facet.get("Facets"):
            warnings.append(f"Facets[{i}].Facets: nested facets are not supported and were ignored")
        facets.append(FacetRequest(attribute=key, max_results=size))
    return facets


def _sort(body: dict[str, Any], warnings: list[str]) -> Sort | None:
    configs = shapes.objects(body, "SortingConfigurations")
    single = shapes.obj(body, "SortingConfiguration")
    chosen = single or (configs[0] if configs else None)
    if (single and configs) or len(configs) > 1:
        warnings.append(
            "Quarry sorts by one attribute: only the first sorting configuration applies"
        )
    if chosen is None:
        return None
    key = shapes.required(chosen, "DocumentAttributeKey", 200, "SortingConfiguration.")
    order = shapes.required(chosen, "SortOrder", 4, "SortingConfiguration.")
    if order not in ("ASC", "DESC"):
        raise validation("SortingConfiguration.SortOrder must be ASC or DESC")
    if key in RELEVANCE_KEYS:
        return None
    return Sort(attribute=key, order=SortOrder.ASC if order == "ASC" else SortOrder.DESC)


def _remember(
    ctx: KendraContext,
    query_id: str,
    index_id: str,
    text: str,
    user: str | None,
    results: dict[str, str],
) -> None:
    """Which document each result id stands for; best effort, like the query log."""
    try:
        ctx.queries.put(
            QUERY,
            query_id,
            {
                "index_id": index_id,
                "query_text": " ".join(text.split())[:1024],
                "user": user or "",
                "results": results,
                "created_at": datetime.now(UTC).isoformat(),
            },
            refresh=False,
        )
    except Exception as exc:
        log.warning("Kendra query record write failed: %s", type(exc).__name__)


def query(ctx: KendraContext, body: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    index = ctx.index(body.get("IndexId"))
    text = _text(body)
    page_size = shapes.integer(body, "PageSize", 10, 1, ctx.svc.settings.max_page_size)
    page_number = shapes.integer(body, "PageNumber", 1, 1, 10_000)
    result_type = shapes.string(body, "QueryResultTypeFilter")
    if result_type not in (None, "DOCUMENT", "ANSWER", "QUESTION_ANSWER"):
        raise validation("QueryResultTypeFilter must be DOCUMENT, QUESTION_ANSWER or ANSWER")
    spell = shapes.obj(body, "SpellCorrectionConfiguration") or {}
    wanted = shapes.strings(body, "RequestedDocumentAttributes")
    shapes.ignore(body, _QUERY, warnings)
    request = QueryRequest(
        query_text=text,
        page_size=page_size,
        page_number=page_number,
        attribute_filter=_filter(body),
        facets=_facets(body, warnings),
        sort=_sort(body, warnings),
        requested_attributes=wanted,
        relevance_overrides=(
            overrides(body, ctx.svc.runtime.engine.field_types())
            if body.get("DocumentRelevanceOverrideConfigurations")
            else []
        ),
    )
    who = principal(ctx, index, body, warnings)
    started = time.perf_counter()
    svc = ctx.svc
    response = search_with_extras(
        svc.runtime.engine,
        svc.faqs,
        svc.featured,
        request,
        who,
        index_id=index.id,
        relevance=svc.relevance,
    )
    took_ms = (time.perf_counter() - started) * 1000
    ctx.svc.query_log.record(
        response.query_id, text, who.user, response.total, page_number, took_ms
    )
    query_id = str(uuid.UUID(hex=response.query_id))
    items, ids = query_items(
        query_id,
        response.results,
        ctx.types,
        wanted,
        sorted_by_attribute=request.sort is not None,
        answer=response.answers[0] if response.answers else None,
    )
    faq, faq_ids = faq_items(query_id, response.faq_answers)
    featured, featured_ids = featured_items(query_id, response.featured_results, ctx.types, wanted)
    ids.update(faq_ids)
    ids.update(featured_ids)
    items = faq + items
    if result_type is not None:
        items = [i for i in items if i["Type"] == result_type]
    _remember(ctx, response.query_id, index.id, text, who.user, ids)
    out: dict[str, Any] = {
        "QueryId": query_id,
        "ResultItems": items,
        "FacetResults": facet_results(response.facets, ctx.types),
        "TotalNumberOfResults": response.total,
        "FeaturedResultsItems": featured,
    }
    if shapes.boolean(spell, "IncludeQuerySpellCheckSuggestions", False):
        out["SpellCorrectedQueries"] = spell_corrections(text, response.spell_suggestion)
    return out


def retrieve(ctx: KendraContext, body: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    index = ctx.index(body.get("IndexId"))
    text = _text(body)
    limit = ctx.svc.settings.max_page_size
    page_size = shapes.integer(body, "PageSize", 10, 1, limit)
    page_number = shapes.integer(body, "PageNumber", 1, 1, limit)
    if page_size * page_number > limit:
        raise validation(f"PageNumber * PageSize may not exceed {limit} passages")
    if body.get("RequestedDocumentAttributes") is not None:
        warnings.append("RequestedDocumentAttributes: Retrieve returns _source_uri only")
    shapes.ignore(body, _RETRIEVE, warnings, silent=("RequestedDocumentAttributes",))
    request = RetrieveRequest(
        query_text=text, page_size=page_size * page_number, attribute_filter=_filter(body)
    )
    who = principal(ctx, index, body, warnings)
    response = ctx.svc.runtime.engine.retrieve(request, who)
    query_id = str(uuid.UUID(hex=response.query_id))
    items, ids = [], {}
    for n, passage in enumerate(response.passages[(page_number - 1) * page_size :]):
        item: dict[str, Any] = {
            "Id": f"{query_id}-{n}",
            "DocumentId": passage.document_id,
            "DocumentTitle": passage.title or passage.document_id,
            "Content": passage.text,
            "ScoreAttributes": {"ScoreConfidence": passage_confidence(passage.score)},
            "DocumentAttributes": [],
        }
        if passage.uri:
            item["DocumentURI"] = passage.uri
            item["DocumentAttributes"] = [
                {"Key": "_source_uri", "Value": {"StringValue": passage.uri}}
            ]
        items.append(item)
        ids[item["Id"]] = passage.document_id
    _remember(ctx, response.query_id, index.id, text, who.user, ids)
    return {"QueryId": query_id, "ResultItems": items}


def submit_feedback(
    ctx: KendraContext, body: dict[str, Any], warnings: list[str]
) -> dict[str, Any]:
    index = ctx.index(body.get("IndexId"))
    query_id = shapes.required(body, "QueryId", 36)
    try:
        key = uuid.UUID(query_id).hex
    except ValueError:
        raise not_found(f"no query with QueryId {query_id!r}") from None
    record = ctx.queries.get(QUERY, key)
    if record is None or record.get("index_id") != index.id:
        raise not_found(f"no query with QueryId {query_id!r} was answered by this index")
    shapes.ignore(
        body, ("IndexId", "QueryId", "ClickFeedbackItems", "RelevanceFeedbackItems"), warnings
    )
    results: dict[str, str] = record.get("results") or {}

    def document(i: int, item: dict[str, Any], kind: str) -> str:
        result_id = shapes.required(item, "ResultId", 73, f"{kind}[{i}].")
        if result_id not in results:
            raise validation(f"{kind}[{i}].ResultId is not a result of query {query_id}")
        return results[result_id]

    clicks = [
        Click(
            result_id=document(i, c, "ClickFeedbackItems"),
            clicked_at=parse_time(c.get("ClickTime"), f"ClickFeedbackItems[{i}].ClickTime"),
        )
        for i, c in enumerate(shapes.objects(body, "ClickFeedbackItems"))
    ]
    judged = []
    for i, r in enumerate(shapes.objects(body, "RelevanceFeedbackItems")):
        value = r.get("RelevanceValue")
        if value not in ("RELEVANT", "NOT_RELEVANT"):
            raise validation(
                f"RelevanceFeedbackItems[{i}].RelevanceValue must be RELEVANT or NOT_RELEVANT"
            )
        judged.append(
            Relevance(
                result_id=document(i, r, "RelevanceFeedbackItems"), relevant=value == "RELEVANT"
            )
        )
    feedback = FeedbackBody(query_id=key, clicks=clicks, relevance=judged)
    ctx.svc.feedback.store(
        feedback, {"query_text": record.get("query_text", ""), "user": record.get("user", "")}
    )
    return {}
