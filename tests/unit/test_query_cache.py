"""The query-embedding cache: repeated queries skip the model, and its size is bounded."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from search.embed import Embedder


def test_query_cache_is_bounded_and_serves_repeats() -> None:
    # No passage cache, so only the query cache can spare the model.
    embedder = Embedder(cache_size=0, query_cache_size=2)
    first = embedder.encode_query("vacation policy")
    embedder.encode_query("expense receipts")
    assert embedder.encoded_count == 2
    again = embedder.encode_query("vacation policy")
    assert embedder.encoded_count == 2  # served from the cache
    assert np.array_equal(first, again)
    embedder.encode_query("kubernetes rollout")  # evicts the least recently used query
    assert len(embedder._queries) == 2
    embedder.encode_query("expense receipts")
    assert embedder.encoded_count == 4


def test_concurrent_queries_get_their_own_vectors() -> None:
    # Queries arriving together are encoded in shared batches; each caller gets its own vector.
    texts = [f"question number {i} about travel and expenses" for i in range(12)]
    embedder = Embedder(cache_size=0, query_cache_size=100)
    with ThreadPoolExecutor(max_workers=12) as pool:
        together = list(pool.map(embedder.encode_query, texts))
    alone = Embedder(cache_size=0, query_cache_size=0)
    for text, vector in zip(texts, together, strict=True):
        assert np.allclose(vector, alone.encode_query(text), atol=1e-5)
    assert embedder.encoded_count == len(texts)
