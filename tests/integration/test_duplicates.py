"""Exact duplicates on the real Elasticsearch: two data sources indexing the same file.

The user sees one result per content with the other readable places it lives; a copy the
user may not read is never mentioned; pages never show a collapsed copy again; the hash is
written by the pipeline and reaches documents of an older index by resync or reindex.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from acl import AccessControlList, Principal
from connectors.base import CrawlLimits
from connectors.filesystem import FilesystemConfig, FilesystemConnector
from connectors.models import Document, SyncMode
from search.duplicates import text_hash
from search.embed import Embedder
from search.engine import SearchEngine
from search.index import IndexManager
from search.mapping import ADDED_FIELDS, index_body
from search.pipeline import Pipeline
from search.query import QueryRequest, QueryResponse, RetrievalMode, Sort
from search.runtime import Runtime
from search.settings import Settings
from search.writer import IndexWriter
from tests.integration.test_api_support import as_user
from tests.stack import prefixed, ready_runtime

pytest_plugins = ["tests.integration.test_api_support"]  # the API fixtures

PLAN = (
    "The 2026 marketing plan puts the spring campaign in three regions, doubles the trade "
    "fair budget and moves the product launch webinar to April."
)
MEMO = "Quarterly marketing memo: the brand refresh ships with new colours and a new logo."
BRIEF = "Agency brief for the marketing campaign: audiences, channels and the launch timeline."
BOTH = Principal(user="alice", groups=frozenset({"GROUP_marketing"}))
FS_ONLY = Principal(user="bob", groups=frozenset({"GROUP_marketing"}))
ALF_ONLY = Principal(user="alice", groups=frozenset())
ALL_MODES = list(RetrievalMode)


def _docs() -> tuple[list[Document], list[Document]]:
    """The same plan in a filesystem source and in an Alfresco site (the latter with other
    whitespace and title); each source also holds a memo and a brief, also copies."""
    team = AccessControlList(allow_groups=["GROUP_marketing"])
    alice = AccessControlList(allow_users=["alice"])
    fs = [
        Document(
            id="fs:Plans/2026/plan.txt",
            title="plan.txt",
            text=PLAN,
            content_type="text/plain",
            source_uri="file:///srv/share/Plans/2026/plan.txt",
            path="Plans/2026/plan.txt",
            folder="Plans/2026",
            acl=team,
        ),
        Document(id="fs:memo.txt", title="memo.txt", text=MEMO, path="memo.txt", acl=team),
        Document(
            id="fs:briefs/brief.txt",
            title="brief.txt",
            text=BRIEF,
            path="briefs/brief.txt",
            folder="briefs",
            acl=team,
        ),
    ]
    alf = [
        Document(
            id="alf:plan",
            title="Marketing plan 2026",
            text=PLAN.replace(" ", "  \n", 3),  # same text once whitespace is collapsed
            content_type="text/plain",
            source_uri="https://alfresco.example/share/page/document-details?nodeRef=plan",
            path="documentLibrary/Plans/2026/plan.txt",
            folder="marketing/documentLibrary/Plans/2026",
            acl=alice,
        ),
        Document(id="alf:memo", title="Memo", text=MEMO, folder="marketing/wiki", acl=alice),
        Document(id="alf:brief", title="Brief", text=BRIEF, acl=alice),
    ]
    return fs, alf


@pytest.fixture(scope="module")
def engine(runtime: Runtime) -> Iterator[SearchEngine]:
    alias = f"{runtime.settings.index_prefix}-dedup-docs"
    manager = IndexManager(runtime.es, alias)
    manager.ensure()
    writer = IndexWriter(runtime.es, alias)
    pipeline = Pipeline(writer, runtime.embedder, None)
    fs, alf = _docs()
    assert not pipeline.write_batch("fs-share", fs).failed
    assert not pipeline.write_batch("alf-marketing", alf).failed
    writer.refresh()
    yield SearchEngine(runtime.es, alias, runtime.embedder)
    manager.delete()


def _search(engine: SearchEngine, who: Principal, mode: RetrievalMode, **kw: Any) -> QueryResponse:
    request = QueryRequest(query_text="marketing plan regions trade fair", **kw)
    return engine.search(request, who, mode=mode)


@pytest.mark.parametrize("mode", ALL_MODES)
def test_copies_collapse_into_one_result_that_says_where_else_it_lives(
    engine: SearchEngine, mode: RetrievalMode
) -> None:
    response = _search(engine, BOTH, mode, page_size=10)
    plans = [r for r in response.results if r.id in ("fs:Plans/2026/plan.txt", "alf:plan")]
    assert len(plans) == 1, [r.id for r in response.results]
    shown = plans[0]
    other = "alf:plan" if shown.id.startswith("fs:") else "fs:Plans/2026/plan.txt"
    assert [c.id for c in shown.also_in] == [other]
    copy = shown.also_in[0]
    if other == "alf:plan":
        assert copy.data_source_id == "alf-marketing"
        assert copy.folder == "marketing/documentLibrary/Plans/2026"
        assert copy.title == "Marketing plan 2026"
        assert copy.uri is not None and copy.uri.startswith("https://alfresco.example/")
    else:
        assert (copy.data_source_id, copy.folder) == ("fs-share", "Plans/2026")
    ids = [r.id for r in response.results]
    assert len(ids) == len(set(ids))
    # Three contents in two places each: one result each, and the total counts contents.
    hashes = {text_hash(t) for t in (PLAN, MEMO, BRIEF)}
    assert len(response.results) == response.total
    assert response.total <= len(hashes)
    assert all(len(r.also_in) == 1 for r in response.results)


@pytest.mark.parametrize("mode", ALL_MODES)
def test_a_copy_the_user_may_not_read_is_never_mentioned(
    engine: SearchEngine, mode: RetrievalMode
) -> None:
    for who, readable, hidden in (
        (FS_ONLY, "fs:Plans/2026/plan.txt", "alf"),
        (ALF_ONLY, "alf:plan", "fs"),
    ):
        response = _search(engine, who, mode, page_size=10)
        assert readable in [r.id for r in response.results]
        assert all(r.also_in == [] for r in response.results)
        dumped = response.model_dump_json()
        assert f'"{hidden}:' not in dumped
        assert ("alf-marketing" if hidden == "alf" else "fs-share") not in dumped
        assert ("alfresco.example" if hidden == "alf" else "file:///") not in dumped


@pytest.mark.parametrize("sort", [None, Sort(attribute="_document_title")])
def test_pages_never_show_a_collapsed_copy_again(engine: SearchEngine, sort: Sort | None) -> None:
    seen: list[str] = []
    mentioned: list[str] = []
    first = engine.search(
        QueryRequest(query_text="marketing", page_size=1, sort=sort), BOTH, mode=RetrievalMode.BM25
    )
    assert first.total == 3  # three contents, six documents
    for page in range(1, first.total + 2):
        response = engine.search(
            QueryRequest(query_text="marketing", page_size=1, page_number=page, sort=sort),
            BOTH,
            mode=RetrievalMode.BM25,
        )
        assert response.total == 3
        seen += [r.id for r in response.results]
        mentioned += [c.id for r in response.results for c in r.also_in]
    assert len(seen) == 3  # the fourth page is empty
    everything = {d.id for docs in _docs() for d in docs}
    assert set(seen) | set(mentioned) == everything
    assert not set(seen) & set(mentioned)


def test_facets_count_every_readable_copy(engine: SearchEngine) -> None:
    from search.query import FacetRequest

    response = engine.search(
        QueryRequest(query_text="marketing", facets=[FacetRequest(attribute="_data_source_id")]),
        BOTH,
        mode=RetrievalMode.BM25,
    )
    counts = {v.value: v.count for v in response.facets[0].values}
    assert counts == {"fs-share": 3, "alf-marketing": 3}
    assert response.total == 3


def test_results_say_which_folder_a_document_lives_in(engine: SearchEngine) -> None:
    response = engine.search(QueryRequest(query_text="brand refresh logo"), FS_ONLY)
    memo = next(r for r in response.results if r.id == "fs:memo.txt")
    assert memo.folder is None  # at the root of its data source
    response = engine.search(QueryRequest(query_text="brand refresh logo"), ALF_ONLY)
    memo = next(r for r in response.results if r.id == "alf:memo")
    assert memo.folder == "marketing/wiki"


def test_hash_reaches_older_documents_by_resync_or_reindex(runtime: Runtime) -> None:
    """An index from before the hash gets the field by put_mapping at start; its documents
    collapse once resynced (no re-embedding) or reindexed."""
    alias = f"{runtime.settings.index_prefix}-dedup-old-docs"
    old = index_body(english=False, settings={"number_of_shards": 1, "number_of_replicas": 0})
    for name in ADDED_FIELDS:  # the mapping as the previous version wrote it
        del old["mappings"]["properties"][name]
    runtime.es.indices.create(
        index=f"{alias}-v000001", settings=old["settings"], mappings=old["mappings"]
    )
    runtime.es.indices.put_alias(index=f"{alias}-v000001", name=alias)
    writer = IndexWriter(runtime.es, alias)
    pipeline = Pipeline(writer, runtime.embedder, None)
    fs, alf = _docs()
    plan_fs, plan_alf = fs[0], alf[0]
    for source, doc in (("fs-share", plan_fs), ("alf-marketing", plan_alf)):
        stored = pipeline.fingerprint(source, doc)  # as the previous version stored it
        for name in ADDED_FIELDS:
            del stored[name]
        runtime.es.index(index=alias, id=doc.id, document=stored)
    manager = IndexManager(runtime.es, alias, english=False)
    try:
        with pytest.raises(Exception, match="strict"):  # why the mapping must be upgraded
            runtime.es.index(index=alias, id="x", document={"text_hash": "x"})
        manager.ensure()  # what every process does at start
        mapping = runtime.es.indices.get_mapping(index=alias).body[f"{alias}-v000001"]
        assert mapping["mappings"]["properties"]["text_hash"] == {"type": "keyword"}
        writer.refresh()
        engine = SearchEngine(runtime.es, alias, runtime.embedder)

        def results() -> list[tuple[str, list[str]]]:
            response = _search(engine, BOTH, RetrievalMode.BM25)
            return [(r.id, [c.id for c in r.also_in]) for r in response.results]

        assert len(results()) == 2  # no hash yet: nothing collapses

        stats = pipeline.write_batch("fs-share", [plan_fs])  # a resync of one source
        assert stats.unchanged == [plan_fs.id]  # touched, not re-embedded
        writer.refresh()
        stored = writer.existing([plan_fs.id], ["doc_id", "text_hash", "folder"])[plan_fs.id]
        assert (stored["text_hash"], stored["folder"]) == (text_hash(PLAN), "Plans/2026")
        assert len(results()) == 2  # the other copy still has none

        manager.reindex()  # computes the hash of every document that lacks it
        assert results() in (
            [("fs:Plans/2026/plan.txt", ["alf:plan"])],
            [("alf:plan", ["fs:Plans/2026/plan.txt"])],
        )
    finally:
        manager.delete()


def test_documents_without_text_never_collapse(runtime: Runtime) -> None:
    assert text_hash("") is None
    assert text_hash(" \n\t ") is None
    assert text_hash("a  b\n c") == text_hash("a b c") != text_hash("A b c")


def test_rest_results_expose_folder_and_other_places(runtime: Runtime, api_client: Any) -> None:
    """On the REST face (the service's own index): the copies, their folders, the schema."""
    spec = api_client.get("/openapi.json").json()["components"]["schemas"]
    assert {"folder", "also_in"} <= spec["ResultItem"]["properties"].keys()
    assert {"id", "title", "uri", "data_source_id", "folder"} <= spec["DocumentCopy"][
        "properties"
    ].keys()
    text = "Yarrow field guide: the yarrow survey counts plots along the northern ridge."
    placed = {"rest-a": "rest:a:yarrow", "rest-b": "rest:b:yarrow", "rest-c": "rest:c:yarrow"}
    for source, doc_id in placed.items():
        reader = "rhea" if source != "rest-c" else "sam"
        doc = Document(
            id=doc_id,
            title="Yarrow field guide",
            text=text,
            folder=f"{source}/surveys",
            acl=AccessControlList(allow_users=[reader]),
        )
        assert not runtime.pipeline.write_batch(source, [doc]).failed
    runtime.writer.refresh()
    try:
        response = api_client.post(
            "/v1/query",
            json={"query_text": "yarrow survey", "user_context": as_user("rhea")},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["total"] == 1
        [item] = body["results"]
        assert item["id"] in ("rest:a:yarrow", "rest:b:yarrow")
        assert item["folder"] == f"{item['data_source_id']}/surveys"
        [copy] = item["also_in"]
        assert {item["id"], copy["id"]} == {"rest:a:yarrow", "rest:b:yarrow"}
        assert copy["folder"] == f"{copy['data_source_id']}/surveys"
        assert "rest-c" not in response.text
    finally:
        runtime.writer.delete(list(placed.values()))
        runtime.writer.refresh()


def test_a_file_under_two_filesystem_roots_through_the_cli(
    settings: Settings, es: object, embedder: Embedder, tmp_path: Path
) -> None:
    """The filesystem connector says which directory a file is in; `quarry query` shows one
    result for the two readable copies and where the other one is, never the hidden one."""
    from tests.integration.test_cli import Cli

    s = prefixed(settings, "dedupcli")
    rt = ready_runtime(s, embedder)
    share = tmp_path / "share"
    (share / "Plans" / "2026").mkdir(parents=True)
    (share / "Plans" / "2026" / "plan.txt").write_text(PLAN)
    alice = AccessControlList(allow_users=["alice"])
    roots = {
        "fs-share": (share, alice),
        "fs-plans": (share / "Plans", alice),
        "fs-board": (share / "Plans" / "2026", AccessControlList(allow_users=["bob"])),
    }
    for name, (root, acl) in roots.items():
        connector = FilesystemConnector(FilesystemConfig(root=root, default_acl=acl), name)
        items = list(connector.crawl(SyncMode.FULL, None, CrawlLimits()))
        assert not rt.pipeline.write_batch(name, items).failed
    rt.writer.refresh()
    cli = Cli(s)

    found = cli.json("query", "trade fair budget", "--user", "alice")
    [item] = found["results"]
    places = {(item["data_source_id"], item["folder"])} | {
        (c["data_source_id"], c["folder"]) for c in item["also_in"]
    }
    assert places == {("fs-share", "Plans/2026"), ("fs-plans", "2026")}
    assert found["total"] == 1
    shown = cli("query", "trade fair budget", "--user", "alice")
    assert shown.returncode == 0, shown.stderr
    other = next(c for c in item["also_in"])
    assert f"Also in: {other['data_source_id']}: {other['folder']}" in shown.stdout
    assert "fs-board" not in shown.stdout
    board = cli.json("query", "trade fair budget", "--user", "bob")
    [only] = board["results"]
    assert (only["data_source_id"], only["folder"], only["also_in"]) == ("fs-board", None, [])


COPIED = "Expense claims policy: receipts within thirty days, approved by the line manager."
LONG_TAIL = ", kept for the auditors" * 30  # past what title doc values hold (512)


@pytest.fixture(scope="module")
def crowded(runtime: Runtime) -> Iterator[SearchEngine]:
    """One policy copied into 30 folders (their titles match the query best), 12 other
    documents about claims, and 3 scans without text whose titles match."""
    alias = f"{runtime.settings.index_prefix}-crowded-docs"
    manager = IndexManager(runtime.es, alias)
    manager.ensure()
    writer = IndexWriter(runtime.es, alias)
    pipeline = Pipeline(writer, runtime.embedder, None)
    everyone = AccessControlList(allow_groups=["GROUP_EVERYONE"])
    docs = [
        Document(
            id=f"copy:{i:02d}",
            title=f"Expense claims policy (team {i})" + (LONG_TAIL if i == 0 else ""),
            text=COPIED,
            folder=f"teams/{i:02d}",
            acl=everyone,
        )
        for i in range(30)
    ]
    docs += [
        Document(
            id=f"other:{i:02d}",
            title=f"Note {i}",
            text=f"Claims note number {i}: travel item {i} is reimbursed at rate {i}.",
            acl=everyone,
        )
        for i in range(12)
    ]
    docs += [
        Document(id=f"scan:{i}", title=f"Expense claims scan {i}", text="", acl=everyone)
        for i in range(3)
    ]
    assert not pipeline.write_batch("shares", docs).failed
    writer.refresh()
    yield SearchEngine(runtime.es, alias, runtime.embedder)
    manager.delete()


@pytest.mark.parametrize("mode", [RetrievalMode.BM25, RetrievalMode.RERANK])
def test_pages_stay_full_when_copies_crowd_the_ranking(
    crowded: SearchEngine, mode: RetrievalMode
) -> None:
    """30 copies outrank every other match: the page must still show ten contents and the
    next page the rest (the window of candidates once held only copies, so page 1 showed
    one result and page 2 none, while the total promised 16)."""
    who = Principal(user="erin")
    pages = [
        crowded.search(
            QueryRequest(query_text="expense claims", page_size=10, page_number=n), who, mode=mode
        )
        for n in (1, 2, 3)
    ]
    assert [p.total for p in pages] == [16, 16, 16]  # 1 policy + 12 notes + 3 scans
    assert [len(p.results) for p in pages] == [10, 6, 0]
    shown = [r.id for p in pages for r in p.results]
    assert len(shown) == len(set(shown)) == 16
    scans = [i for i in shown if i.startswith("scan:")]
    assert sorted(scans) == ["scan:0", "scan:1", "scan:2"]  # no text: never collapsed together
    assert sum(i.startswith("other:") for i in shown) == 12
    [policy] = [r for p in pages for r in p.results if r.id.startswith("copy:")]
    assert policy.also_in_total == 29
    assert len(policy.also_in) == 5  # the first five by data source and id, the rest counted
    listed = [c.id for c in policy.also_in]
    assert listed == sorted(listed) and policy.id not in listed
    assert all(c.title.startswith("Expense claims policy") for c in policy.also_in)
    if policy.id != "copy:00":  # its title is read from the source, whole
        assert policy.also_in[0].title == "Expense claims policy (team 0)" + LONG_TAIL
    assert all(c.folder and c.folder.startswith("teams/") for c in policy.also_in)
