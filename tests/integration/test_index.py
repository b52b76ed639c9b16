"""The document index lives behind an alias; a reindex swaps backing indices with no downtime."""

from __future__ import annotations

from acl import Principal
from search.engine import SearchEngine
from search.index import IndexManager
from search.pipeline import Pipeline
from search.query import QueryRequest, RetrievalMode
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


def test_an_index_of_an_older_version_fails_closed_until_reindexed(runtime: Runtime) -> None:
    from acl import AccessControlList
    from connectors.models import Document
    from search.mapping import ACL_FIELDS, index_body
    from search.principals import PrincipalService

    alias = f"{runtime.settings.index_prefix}-upgrade-docs"
    old = index_body(english=False, settings={"number_of_shards": 1, "number_of_replicas": 0})
    for name in ACL_FIELDS:  # the mapping as the previous version wrote it
        old["mappings"]["properties"][name] = {"type": "keyword"}
    runtime.es.indices.create(
        index=f"{alias}-v000001", settings=old["settings"], mappings=old["mappings"]
    )
    runtime.es.indices.put_alias(index=f"{alias}-v000001", name=alias)
    manager = IndexManager(runtime.es, alias, english=False)
    assert manager.needs_upgrade()
    writer = IndexWriter(runtime.es, alias)
    doc = Document(
        id="up:1",
        title="Upgrade ledger",
        text="the upgrade ledger entry",
        acl=AccessControlList(allow_users=["Alice"]),
    )
    Pipeline(writer, runtime.embedder, None).write_batch("alf-up", [doc])
    writer.refresh()
    engine = SearchEngine(runtime.es, alias, runtime.embedder)
    alice = PrincipalService(runtime.identities, lambda: {"alf-up": True}, ttl_s=0).for_user(
        "alice"
    )
    request = QueryRequest(query_text="upgrade ledger")

    def found() -> set[str]:
        return {r.id for r in engine.search(request, alice, mode=RetrievalMode.BM25).results}

    assert found() == set()  # narrower, never wider, before the upgrade
    manager.reindex()
    assert not manager.needs_upgrade()
    assert found() == {"up:1"}
