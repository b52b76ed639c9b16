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
from search.system_index import lookup_all


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
    ``relevance`` on every query, so a change applies at once) shapes the ranking. The pinned
    documents, the tuning and whether FAQs exist are read in one round trip.

    Measurement modes (anything but ``rerank``) rank documents only, as the benches expect.
    """
    if mode is not RetrievalMode.RERANK:
        return engine.search(request, principal, mode=mode)
    text = " ".join(request.query_text.split())
    # What shapes this query, asked in one round trip: its pinned documents, the index's
    # tuning and whether the index has FAQs at all (most have none).
    lookups = [
        (featured.index, featured.pinned_search(text, index_id)),
        (faqs.index, faqs.probe_search(index_id)),
    ]
    if relevance is not None:
        lookups.append((relevance.index, relevance.record_search(index_id)))
    found = lookup_all(engine.es, lookups) if text else []
    pinned = featured.pinned_from(found[0], text) if found else []
    has_faqs = bool(found) and faqs.any_in(found[1])
    tuning = (
        relevance.from_response(index_id, found[2]).by_name()
        if relevance is not None and found
        else None
    )
    response = engine.search(
        request,
        principal,
        mode=mode,
        exclude=[exclusion(pinned)] if pinned else None,
        tuning=tuning,
    )
    if request.page_number == 1:
        response.featured_results = featured_items(engine.es, engine.alias, pinned, text, principal)
        response.faq_answers = faqs.matching(text, principal, index_id) if has_faqs else []
        answer = suggest_answer(engine.embedder, text, response.results)
        response.answers = [answer] if answer is not None else []
    return response
