"""The query-embedding cache: repeated queries skip the model, and its size is bounded."""

from __future__ import annotations

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
