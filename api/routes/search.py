"""The searcher's endpoints: query, retrieve, suggest and feedback.

Every one resolves the user context first, so the ACL filter the core applies is the user's;
the routes are plain ``def`` so FastAPI runs the blocking Elasticsearch calls in its threads.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Depends, Query

from acl import Principal
from api.auth import Caller, caller
from api.deps import Services, services
from api.errors import ApiError, field_error
from api.models import (
    FeedbackBody,
    FeedbackResponse,
    QueryBody,
    RetrieveBody,
    SuggestBody,
    Suggestion,
    SuggestResponse,
)
from search import metrics
from search.extras import search_with_extras
from search.query import QueryRequest, QueryResponse, RetrievalMode, RetrieveResponse
from search.suggest import suggest as suggest_titles_and_queries

router = APIRouter(prefix="/v1", tags=["search"])

_USER: dict[int | str, dict[str, Any]] = {
    401: {"description": "The user-context token is invalid or expired."}
}

_FEEDBACK: dict[int | str, dict[str, Any]] = {404: {"description": "Unknown query_id."}}


def _check_limits(svc: Services, text: str, page_size: int) -> None:
    """Settings-dependent caps as 422s naming the field, before any backend work."""
    s = svc.settings
    words = " ".join(text.split())
    if not words:
        raise field_error("query_text", "must contain at least one word")
    if len(words) > s.max_query_chars:
        raise field_error("query_text", f"at most {s.max_query_chars} characters, got {len(words)}")
    if page_size > s.max_page_size:
        raise field_error("page_size", f"at most {s.max_page_size}, got {page_size}")


@router.post("/query", response_model=QueryResponse, responses=_USER)
def query(
    body: QueryBody,
    mode: RetrievalMode = Query(
        RetrievalMode.RERANK,
        description="Admin only: run a measurement mode instead of the product's.",
    ),
    svc: Services = Depends(services),
    who: Caller = Depends(caller),
) -> QueryResponse:
    """Search as the user in ``user_context``; the query is logged for suggestions and analysis."""
    _check_limits(svc, body.query_text, body.page_size)
    if mode is not RetrievalMode.RERANK:
        who.require_admin("mode")
    principal = who.principal(body.user_context)
    request: QueryRequest = body  # a QueryBody is a QueryRequest; the engine ignores the rest
    started = time.perf_counter()
    response = search_with_extras(
        svc.runtime.engine,
        svc.faqs,
        svc.featured,
        request,
        principal,
        mode=mode,
        relevance=svc.relevance,
    )
    took = (time.perf_counter() - started) * 1000
    metrics.QUERY_LATENCY.labels(mode.value).observe(took / 1000)
    svc.query_log.record(
        response.query_id,
        request.query_text,
        principal.user,
        response.total,
        request.page_number,
        took,
    )
    return response


@router.post("/retrieve", response_model=RetrieveResponse, responses=_USER)
def retrieve(
    body: RetrieveBody, svc: Services = Depends(services), who: Caller = Depends(caller)
) -> RetrieveResponse:
    """Passages for retrieval-augmented generation, from documents the user may read."""
    _check_limits(svc, body.query_text, body.page_size)
    principal = who.principal(body.user_context)
    return svc.runtime.engine.retrieve(body, principal)


@router.post("/suggest", response_model=SuggestResponse, responses=_USER)
def suggest(
    body: SuggestBody, svc: Services = Depends(services), who: Caller = Depends(caller)
) -> SuggestResponse:
    """Completions for a prefix: past queries that find readable documents, and readable titles."""
    principal: Principal = who.principal(body.user_context)
    svc.runtime.index.ensure()
    found = suggest_titles_and_queries(
        svc.runtime.es,
        svc.settings.docs_alias,
        svc.query_log,
        principal,
        body.query_text,
        body.max_suggestions,
        svc.settings.suggest_min_users,
    )
    return SuggestResponse(suggestions=[Suggestion(text=s.text, source=s.source) for s in found])


@router.post("/feedback", response_model=FeedbackResponse, responses=_FEEDBACK)
def feedback(body: FeedbackBody, svc: Services = Depends(services)) -> FeedbackResponse:
    """Clicks and relevance judgements for an answered query, kept for relevance tuning."""
    logged = svc.query_log.get(body.query_id)
    if logged is None:
        raise ApiError(404, "not_found", f"no query with query_id {body.query_id!r} was answered")
    stored = svc.feedback.store(body, logged)
    return FeedbackResponse(query_id=body.query_id, stored=stored)
