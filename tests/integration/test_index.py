"""The document index lives behind an alias; a reindex swaps backing indices with no downtime."""

from __future__ import annotations

from acl import Principal
from search.engine import SearchEngine
from search.index import IndexManager
from search.pipeline import Pipeline
from search.query import QueryRequest
from search.runtime import Runtime
from search.writer import IndexWriter
from tests.corpus import SOURCE, documents


def test_reindex_moves_the_alias_and_keeps_everything(runtime: Runtime) -> None:
    alias = f"{runtime.settings.index_prefix}-reidx-docs"
    manager = IndexManager(runtime.es, alias)
    first = manager.ensure()
    assert first.endswith("-v000001")
    assert manager.ensure() == first  # idempotent
    manager.declare_attribute("cost_center", "string")
    writer = IndexWriter(runtime.es, alias)
    Pipeline(writer, runtime.embedder, None).write_batch(SOURCE, documents())
    writer.refresh()
    engine = SearchEngine(runtime.es, alias, runtime.embedder)
    before = [
        r.id
        for r in engine.search(
            QueryRequest(query_text="kubernetes rollout"),
            Principal(user="alice", groups=frozenset({"GROUP_engineering"})),
        ).results
    ]

    second = manager.reindex()

    assert second.endswith("-v000002")
    assert manager.backing_indices() == [second]
    assert not runtime.es.indices.exists(index=first)
    assert runtime.es.count(index=alias).body["count"] == len(documents())
    assert manager.attribute_types()["cost_center"] == "keyword"
    after = [
        r.id
        for r in engine.search(
            QueryRequest(query_text="kubernetes rollout"),
            Principal(user="alice", groups=frozenset({"GROUP_engineering"})),
        ).results
    ]
    assert after == before
    stats = manager.stats()
    assert stats["documents"] == len(documents())
    assert stats["english_analysis"] is True
    manager.delete()
    assert manager.current() is None
