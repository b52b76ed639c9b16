"""What a query answers beyond ranked documents: featured results, FAQ and suggested answers.

Kept beside the ranking rather than inside it: the engine only learns which pinned documents
to leave out of every stage (so a pinned document is never counted or shown twice).
"""

from __future__ import annotations

from acl import Principal
from search.answers import suggest_answer
from search.engine import SearchEngine
from search.faq import DEFAULT_INDEX, FaqStore
from search.featured import FeaturedStore, exclusion, featured_items
from search.query import QueryRequest, QueryResponse, RetrievalMode
from search.relevance import RelevanceStore


def search_with_extras(
    engine: SearchEngine,
    faqs: FaqStore,
    featured: FeaturedStore,
    request: QueryRequest,
    principal: Principal,
    mode: RetrievalMode = RetrievalMode.RERANK,
    index_id: str = DEFAULT_INDEX,
    relevance: RelevanceStore | None = None,
) -> QueryResponse:
    """The engine's answer with, on page 1, readable pinned documents, visible FAQ answers and
    a suggested answer from the readable top results. The index's relevance tuning (read from
    ``relevance`` on every query, so a change applies at once) shapes the ranking.

    Measurement modes (anything but ``rerank``) rank documents only, as the benches expect.
    """
    if mode is not RetrievalMode.RERANK:
        return engine.search(request, principal, mode=mode)
    text = " ".join(request.query_text.split())
    pinned = featured.pinned(text, index_id) if text else []
    tuning = relevance.get(index_id).by_name() if relevance is not None else None
    response = engine.search(
        request,
        principal,
        mode=mode,
        exclude=[exclusion(pinned)] if pinned else None,
        tuning=tuning,
    )
    if request.page_number == 1:
        response.featured_results = featured_items(engine.es, engine.alias, pinned, text, principal)
        response.faq_answers = faqs.answers(text, principal, index_id)
        answer = suggest_answer(engine.embedder, text, response.results)
        response.answers = [answer] if answer is not None else []
    return response
