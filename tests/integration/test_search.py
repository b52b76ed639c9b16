"""The query path on the real Elasticsearch: ranking, filters, facets, excerpts, ACLs, paging."""

from __future__ import annotations

import pytest

from acl import Principal
from search.errors import BadRequest
from search.filters import AttributeFilter
from search.query import FacetRequest, QueryRequest, RetrievalMode, RetrieveRequest, Sort
from search.runtime import Runtime
from tests.corpus import SOURCE, documents

ALL_MODES = list(RetrievalMode)
EMPLOYEE = Principal(user="erin", groups=frozenset())
ENGINEER = Principal(user="alice", groups=frozenset({"GROUP_engineering"}))
EXEC = Principal(user="mallory", groups=frozenset({"GROUP_executives"}))


@pytest.fixture(scope="module")
def rt(runtime: Runtime) -> Runtime:
    stats = runtime.pipeline.write_batch(SOURCE, documents())
    assert not stats.failed
    runtime.writer.refresh()
    return runtime


def ids(
    rt: Runtime, text: str, who: Principal, mode: RetrievalMode = RetrievalMode.RERANK, **kw
) -> list[str]:
    return [
        r.id for r in rt.engine.search(QueryRequest(query_text=text, **kw), who, mode=mode).results
    ]


@pytest.mark.parametrize("mode", ALL_MODES)
def test_ranking_puts_the_answer_first(rt: Runtime, mode: RetrievalMode) -> None:
    assert (
        ids(rt, "how do I follow a kubernetes deployment rollout", ENGINEER, mode)[0]
        == "corpus:kubernetes"
    )
    assert ids(rt, "reimbursement of hotel receipts", EMPLOYEE, mode)[0] == "corpus:expenses"
    assert ids(rt, "database ran out of disk", ENGINEER, mode)[0] == "corpus:incident"


def test_stemming_matches_word_forms(rt: Runtime) -> None:
    # "deploys" and "deploying" share the stem of the title's "Deploying".
    assert ids(rt, "deploys", ENGINEER, RetrievalMode.BM25) == ["corpus:kubernetes"]


@pytest.mark.parametrize("mode", ALL_MODES)
def test_acl_filters_every_mode(rt: Runtime, mode: RetrievalMode) -> None:
    anonymous = set(
        ids(
            rt,
            "vacation salary kubernetes database roadmap",
            Principal.anonymous(),
            mode,
            page_size=50,
        )
    )
    assert anonymous <= {"corpus:vacation", "corpus:expenses", "corpus:onboarding"}
    # Denied user wins over the allowing group; documents with no ACL are visible to nobody.
    assert "corpus:salaries" not in ids(rt, "executive salary bands", EXEC, mode)
    assert "corpus:salaries" in ids(
        rt,
        "executive salary bands",
        Principal(user="ceo", groups=frozenset({"GROUP_executives"})),
        mode,
    )
    for who in (EMPLOYEE, ENGINEER, EXEC, Principal(user="dana")):
        assert "corpus:noacl" not in ids(
            rt, "vacation memo lost permissions", who, mode, page_size=50
        )
    contractor = Principal(
        user="carl", groups=frozenset({"GROUP_engineering", "GROUP_contractors"})
    )
    assert "corpus:incident" not in ids(rt, "database outage postmortem", contractor, mode)
    assert "corpus:roadmap" in ids(rt, "search platform roadmap", Principal(user="dana"), mode)


def test_totals_and_pages_count_only_readable_documents(rt: Runtime) -> None:
    query = QueryRequest(query_text="vacation", page_size=1)
    first = rt.engine.search(query, EMPLOYEE, mode=RetrievalMode.BM25)
    # vacation, onboarding are readable; the no-ACL memo also says "vacation" but is hidden.
    assert first.total == 2
    second = rt.engine.search(
        query.model_copy(update={"page_number": 2}), EMPLOYEE, mode=RetrievalMode.BM25
    )
    assert {first.results[0].id, second.results[0].id} == {"corpus:vacation", "corpus:onboarding"}
    third = rt.engine.search(
        query.model_copy(update={"page_number": 3}), EMPLOYEE, mode=RetrievalMode.BM25
    )
    assert third.results == []


def _f(**kw) -> AttributeFilter:
    return AttributeFilter.model_validate(kw)


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (
            {"equals_to": {"key": "department", "value": "HR"}},
            {"corpus:vacation", "corpus:onboarding"},
        ),
        (
            {"contains_any": {"key": "tags", "value": ["travel", "howto"]}},
            {"corpus:expenses", "corpus:onboarding", "corpus:kubernetes"},
        ),
        ({"contains_all": {"key": "tags", "value": ["policy", "leave"]}}, {"corpus:vacation"}),
        ({"greater_than": {"key": "pages", "value": 4}}, {"corpus:kubernetes"}),
        (
            {"greater_than_or_equals": {"key": "pages", "value": 4}},
            {"corpus:kubernetes", "corpus:expenses"},
        ),
        ({"less_than": {"key": "pages", "value": 3}}, {"corpus:incident", "corpus:onboarding"}),
        (
            {"less_than_or_equals": {"key": "pages", "value": 3}},
            {"corpus:incident", "corpus:onboarding", "corpus:vacation"},
        ),
        (
            {"greater_than": {"key": "_last_updated_at", "value": "2025-04-01T00:00:00Z"}},
            {"corpus:kubernetes"},
        ),
        ({"equals_to": {"key": "_category", "value": "wiki"}}, {"corpus:kubernetes"}),
        (
            {
                "and_all": [
                    {"equals_to": {"key": "department", "value": "Engineering"}},
                    {"contains_any": {"key": "tags", "value": ["incident"]}},
                ]
            },
            {"corpus:incident"},
        ),
        (
            {
                "or_all": [
                    {"equals_to": {"key": "department", "value": "Finance"}},
                    {"equals_to": {"key": "_category", "value": "blog"}},
                ]
            },
            {"corpus:expenses", "corpus:incident"},
        ),
        (
            {"not": {"equals_to": {"key": "department", "value": "HR"}}},
            {"corpus:kubernetes", "corpus:incident", "corpus:expenses"},
        ),
    ],
)
def test_attribute_filters(rt: Runtime, flt: dict, expected: set[str]) -> None:
    # ENGINEER reads everything public plus engineering documents; salaries/roadmap stay hidden.
    got = ids(
        rt,
        "policy deployment database vacation travel onboarding",
        ENGINEER,
        RetrievalMode.BM25,
        page_size=50,
        attribute_filter=_f(**flt),
    )
    assert set(got) == expected


def test_filter_needs_exactly_one_operator() -> None:
    with pytest.raises(ValueError, match="exactly one operator"):
        _f(equals_to={"key": "a", "value": "b"}, not_={"equals_to": {"key": "a", "value": "c"}})


def test_facets_respect_the_acl(rt: Runtime) -> None:
    request = QueryRequest(
        query_text="policy salary vacation deployment travel",
        facets=[FacetRequest(attribute="department")],
    )
    anon = rt.engine.search(request, Principal.anonymous(), mode=RetrievalMode.BM25).facets[0]
    counts = {v.value: v.count for v in anon.values}
    assert "Finance" in counts and counts["Finance"] == 1  # expenses yes, salaries no
    assert "Engineering" not in counts
    execs = rt.engine.search(
        request,
        Principal(user="ceo", groups=frozenset({"GROUP_executives"})),
        mode=RetrievalMode.BM25,
    )
    assert {v.value: v.count for v in execs.facets[0].values}["Finance"] == 2


def test_excerpt_has_highlight_offsets_into_its_text(rt: Runtime) -> None:
    result = rt.engine.search(
        QueryRequest(query_text="replication lag alerting"), ENGINEER
    ).results[0]
    assert result.id == "corpus:incident"
    excerpt = result.excerpt
    assert excerpt.highlights
    marked = {excerpt.text[h.begin : h.end].lower() for h in excerpt.highlights}
    assert {"replication", "lag", "alerting"} <= marked
    assert result.title == "Postmortem: database outage in March"
    assert result.attributes["department"] == "Engineering"
    assert result.attributes["_category"] == "blog"


def test_sort_by_date(rt: Runtime) -> None:
    got = ids(
        rt,
        "policy vacation onboarding travel",
        EMPLOYEE,
        sort=Sort(attribute="_last_updated_at", order="desc"),
        page_size=10,
    )
    assert got == ["corpus:vacation", "corpus:expenses", "corpus:onboarding"]


def test_query_text_is_never_query_syntax(rt: Runtime) -> None:
    for text in (
        "title:* OR acl_allow_groups:*",
        '"unbalanced',
        "a AND (b OR",
        "*",
        "\\",
        "body:/.*/",
    ):
        for result in rt.engine.search(
            QueryRequest(query_text=text, page_size=50), Principal.anonymous()
        ).results:
            assert result.id in {"corpus:vacation", "corpus:expenses", "corpus:onboarding"}


def test_oversized_requests_get_clear_errors(rt: Runtime) -> None:
    with pytest.raises(BadRequest, match="query_text"):
        rt.engine.search(QueryRequest(query_text="x" * 5000), EMPLOYEE)
    with pytest.raises(BadRequest, match="page_size"):
        rt.engine.search(QueryRequest(query_text="x", page_size=1000), EMPLOYEE)
    with pytest.raises(BadRequest, match="2048 groups"):
        rt.engine.search(
            QueryRequest(query_text="x"),
            Principal(user="u", groups=frozenset(f"g{i}" for i in range(2049))),
        )


def test_many_groups_still_filter_correctly(rt: Runtime) -> None:
    groups = frozenset({*(f"GROUP_noise{i}" for i in range(2047)), "GROUP_engineering"})
    assert (
        ids(rt, "kubernetes helm", Principal(user="zed", groups=groups))[0] == "corpus:kubernetes"
    )


def test_spelling_suggestion_when_nothing_matches(rt: Runtime) -> None:
    response = rt.engine.search(
        QueryRequest(query_text="vacatoin"), EMPLOYEE, mode=RetrievalMode.BM25
    )
    assert response.total == 0
    assert response.spell_suggestion == "vacation"


def test_spelling_suggestion_never_reveals_a_hidden_word_beside_a_readable_one(
    rt: Runtime,
) -> None:
    # "vacation" is readable by everyone; "kubernetes" only by engineering. The corrected
    # query finds a readable document through "vacation" alone, which must not carry the
    # hidden correction along.
    response = rt.engine.search(
        QueryRequest(query_text="vacatoin kubernetis"), EMPLOYEE, mode=RetrievalMode.BM25
    )
    assert response.total == 0
    assert "kubernetes" not in (response.spell_suggestion or "")
    engineer = rt.engine.search(
        QueryRequest(query_text="vacatoin kubernetis"), ENGINEER, mode=RetrievalMode.BM25
    )
    assert engineer.spell_suggestion == "vacation kubernetes"


def test_retrieve_returns_readable_passages(rt: Runtime) -> None:
    response = rt.engine.retrieve(
        RetrieveRequest(query_text="how many vacation days", page_size=3), EMPLOYEE
    )
    assert response.passages[0].document_id == "corpus:vacation"
    assert all(
        p.document_id in {"corpus:vacation", "corpus:expenses", "corpus:onboarding"}
        for p in response.passages
    )


def test_deleting_a_document_removes_its_passages(rt: Runtime) -> None:
    from acl import AccessControlList
    from connectors.models import Deletion, Document

    long_text = " ".join(f"Sentence number {i} about glaciers and fjords." for i in range(400))
    doc = Document(
        id="corpus:long", title="Glaciers", text=long_text, acl=AccessControlList.public()
    )
    stats = rt.pipeline.write_batch(SOURCE, [doc])
    assert stats.passages > 3
    rt.writer.refresh()
    nested = {"nested": {"path": "passages", "query": {"match": {"passages.text": "glaciers"}}}}
    assert rt.es.count(index=rt.settings.docs_alias, query=nested).body["count"] == 1
    rt.pipeline.write_batch(SOURCE, [Deletion(id="corpus:long")])
    rt.writer.refresh()
    alias = rt.settings.docs_alias
    assert rt.es.count(index=alias, query=nested).body["count"] == 0
    # No orphaned nested passage documents remain in the backing index either.
    backing = rt.index.current()
    assert backing is not None
    raw = rt.es.indices.stats(index=backing).body["indices"][backing]["primaries"]["docs"]["count"]
    visible = rt.es.count(index=alias).body["count"]
    passages_alive = sum(
        len(h["_source"]["passages"])
        for h in rt.es.search(index=alias, size=100, source=["passages.index"]).body["hits"]["hits"]
    )
    rt.es.indices.forcemerge(index=backing, only_expunge_deletes=True)
    rt.es.indices.refresh(index=backing)
    raw = rt.es.indices.stats(index=backing).body["indices"][backing]["primaries"]["docs"]["count"]
    assert raw == visible + passages_alive


def test_unchanged_documents_are_not_rewritten(rt: Runtime) -> None:
    again = rt.pipeline.write_batch(SOURCE, documents())
    assert sorted(again.unchanged) == sorted(d.id for d in documents())
    assert again.passages == 0


def test_spelling_suggestion_never_reveals_hidden_words(rt: Runtime) -> None:
    # "kubernetes" appears only in a document anonymous users cannot read.
    response = rt.engine.search(
        QueryRequest(query_text="kubernetis"), Principal.anonymous(), mode=RetrievalMode.BM25
    )
    assert response.total == 0
    assert response.spell_suggestion is None
    engineer = rt.engine.search(
        QueryRequest(query_text="kubernetis"), ENGINEER, mode=RetrievalMode.BM25
    )
    assert engineer.spell_suggestion == "kubernetes"


def test_failed_touches_and_deletes_are_reported_under_their_doc_ids(rt: Runtime) -> None:
    """Per-item failures come back keyed by the source id, even for hashed long ids."""
    from acl import AccessControlList
    from connectors.models import Deletion, Document
    from search.pipeline import Pipeline
    from search.writer import IndexWriter, es_id

    index = f"{rt.settings.index_prefix}-blocked"
    rt.es.indices.create(index=index)
    try:
        pipeline = Pipeline(IndexWriter(rt.es, index), rt.pipeline.embedder, None)
        long_id, short_id = "corpus:" + "é" * 300, "corpus:short"  # 607 bytes
        assert es_id(long_id) != long_id
        docs = [
            Document(id=i, title="Fjords", text="Fjords are deep.", acl=AccessControlList.public())
            for i in (long_id, short_id)
        ]
        assert sorted(pipeline.write_batch(SOURCE, docs).added) == sorted([long_id, short_id])
        rt.es.indices.refresh(index=index)
        rt.es.indices.put_settings(index=index, settings={"index.blocks.write": True})
        same = pipeline.write_batch(SOURCE, docs)
        assert same.unchanged == [] and set(same.failed) == {long_id, short_id}
        gone = pipeline.write_batch(SOURCE, [Deletion(id=long_id), Deletion(id=short_id)])
        assert gone.deleted == [] and set(gone.failed) == {long_id, short_id}
    finally:
        rt.es.indices.put_settings(index=index, settings={"index.blocks.write": False})
        rt.es.indices.delete(index=index)
