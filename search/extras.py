"""What a query answers beyond ranked documents: featured results and FAQ answers.

Kept beside the ranking rather than inside it: the engine only learns which pinned documents
to leave out of every stage (so a pinned document is never counted or shown twice).
"""

from __future__ import annotations

from acl import Principal
from search.engine import SearchEngine
from search.faq import DEFAULT_INDEX, FaqStore
from search.featured import FeaturedStore, exclusion, featured_items
from search.query import QueryRequest, QueryResponse, RetrievalMode


def search_with_extras(
    engine: SearchEngine,
    faqs: FaqStore,
    featured: FeaturedStore,
    request: QueryRequest,
    principal: Principal,
    mode: RetrievalMode = RetrievalMode.RERANK,
    index_id: str = DEFAULT_INDEX,
) -> QueryResponse:
    """The engine's answer with readable pinned documents and visible FAQ answers on page 1.

    Measurement modes (anything but ``rerank``) rank documents only, as the benches expect.
    """
    if mode is not RetrievalMode.RERANK:
        return engine.search(request, principal, mode=mode)
    text = " ".join(request.query_text.split())
    pinned = featured.pinned(text, index_id) if text else []
    response = engine.search(
        request, principal, mode=mode, exclude=[exclusion(pinned)] if pinned else None
    )
    if request.page_number == 1:
        response.featured_results = featured_items(engine.es, engine.alias, pinned, text, principal)
        response.faq_answers = faqs.answers(text, principal, index_id)
    return response
