"""Delete every document matching a query with search + bulk delete.

``_delete_by_query`` lives in Elasticsearch's ``reindex`` module, which minimal distributions
(the integ-test node Quarry's stack runs) do not ship; this works on any cluster. Nothing else
writes a data source's documents while its sync or deletion runs, so re-querying after each
refresh converges.
"""

from __future__ import annotations

from typing import Any

from elasticsearch import Elasticsearch, NotFoundError

from search.errors import BackendUnavailable

PAGE = 1000


def delete_matching(
    es: Elasticsearch,
    index: str,
    query: dict[str, Any],
    sample_field: str | None = None,
    sample_size: int = 100,
) -> tuple[int, list[str]]:
    """Delete what ``query`` matches; returns (how many were deleted, a sample of ``sample_field``)."""
    deleted = 0
    sample: list[str] = []
    attempted: set[str] = set()
    try:
        es.indices.refresh(index=index)
    except NotFoundError:
        return 0, []
    while True:
        fields: dict[str, Any] = (
            {"source_includes": [sample_field]} if sample_field else {"source": False}
        )
        hits = es.search(index=index, query=query, size=PAGE, sort=["_doc"], **fields).body["hits"][
            "hits"
        ]
        fresh = [h for h in hits if h["_id"] not in attempted]
        if not fresh:
            if hits:
                raise BackendUnavailable(f"{len(hits)} documents of {index} could not be deleted")
            return deleted, sample
        ops = [{"delete": {"_index": h["_index"], "_id": h["_id"]}} for h in fresh]
        response = es.bulk(operations=ops, refresh=True)
        for hit, item in zip(fresh, response.body["items"], strict=True):
            attempted.add(hit["_id"])
            if item["delete"].get("status", 500) in (200, 404):
                deleted += 1
                if sample_field and len(sample) < sample_size:
                    sample.append(str(hit["_source"].get(sample_field, hit["_id"])))
