"""Exact matches first, honest totals and hybrid Retrieve, on the real Elasticsearch.

A reference code held by one document (and another held by two) sits among ~50 documents
whose codes differ by a character or two: no query word matches them, yet their vectors are
closer to the query's than the matching documents' long texts are. Dense similarity alone
buries the matches; the product ranking must not.
"""

from __future__ import annotations

import pytest
from elasticsearch import Elasticsearch

from acl import EVERYONE, AccessControlList, Principal
from connectors.models import Document
from search.embed import Embedder
from search.query import FacetRequest, QueryRequest, RetrievalMode, RetrieveRequest
from search.runtime import Runtime
from search.settings import Settings
from tests.stack import ready_runtime

SOURCE = "rank"
UNIQUE = "qx4207b1d4f3"
TWICE = "qx4207b1d4k8"
WHO = Principal(user="erin", groups=frozenset())
PUBLIC = AccessControlList(allow_groups=[EVERYONE])

FILLER = (
    "The facilities team reviewed heating, lighting and cleaning contracts for every floor of "
    "the building this quarter. Meeting rooms were booked more often than last year, parking "
    "requests grew, and the cafeteria changed its supplier after a tender. "
)


def _long(code: str, where: int) -> str:
    """Three passages of filler with the code in passage ``where`` only."""
    parts = []
    for i in range(3):
        words = (FILLER * 6).split()[:200]
        if i == where:
            words.insert(100, f"Reference {code}.")
        parts.append(" ".join(words))
    return "\n\n".join(parts)


def documents() -> list[Document]:
    docs = [
        Document(
            id="rank:unique",
            title="Facilities report",
            text=_long(UNIQUE, 1),
            content_type="text/plain",
            attributes={"kind": "report"},
            acl=PUBLIC,
        ),
        Document(
            id="rank:twice-a",
            title="Facilities report, north site",
            text=_long(TWICE, 0),
            content_type="text/plain",
            attributes={"kind": "report"},
            acl=PUBLIC,
        ),
        Document(
            id="rank:twice-b",
            title="Facilities report, south site",
            text=_long(TWICE, 2) + " " + FILLER,
            content_type="text/plain",
            attributes={"kind": "report"},
            acl=PUBLIC,
        ),
    ]
    for i in range(48):
        # Codes one or two characters away from the two above: different tokens to BM25,
        # near neighbours to the embedding.
        code = f"qx4207b1d4{'fk'[i % 2]}{i % 10 if i % 10 not in (3, 8) else 0}{chr(97 + i // 2)}"
        docs.append(
            Document(
                id=f"rank:neighbour-{i:02d}",
                title=f"Reference {code}",
                text=f"Reference {code}.",
                content_type="text/plain",
                attributes={"kind": "code"},
                acl=PUBLIC,
            )
        )
    docs.append(
        Document(
            id="rank:zebra",
            title="Garden notes",
            text="The zebracorn hedge was trimmed in spring; roses were pruned in autumn.",
            content_type="text/plain",
            attributes={"kind": "report"},
            acl=PUBLIC,
        )
    )
    return docs


@pytest.fixture(scope="module")
def rt(settings: Settings, es: Elasticsearch, embedder: Embedder) -> Runtime:
    # An index of its own (removed with the session's others) so that other tests' totals
    # and neighbours stay as they are.
    own = settings.model_copy(update={"index_prefix": f"{settings.index_prefix}-rank"})
    runtime = ready_runtime(own, embedder)
    stats = runtime.pipeline.write_batch(SOURCE, documents())
    assert not stats.failed
    runtime.writer.refresh()
    return runtime


def search(rt: Runtime, text: str, mode: RetrievalMode = RetrievalMode.RERANK, **kw):  # type: ignore[no-untyped-def]
    return rt.engine.search(QueryRequest(query_text=text, page_size=100, **kw), WHO, mode=mode)


def test_dense_similarity_alone_buries_the_matches(rt: Runtime) -> None:
    """The premise of the tests below: the neighbours are closer to the query than the matches."""
    dense = [r.id for r in search(rt, UNIQUE, RetrievalMode.DENSE).results]
    assert dense.index("rank:unique") > 5
    dense = [r.id for r in search(rt, TWICE, RetrievalMode.DENSE).results]
    assert max(dense.index("rank:twice-a"), dense.index("rank:twice-b")) > 5


def test_a_document_holding_a_unique_term_ranks_first(rt: Runtime) -> None:
    response = search(rt, UNIQUE)
    ranked = [r.id for r in response.results]
    assert ranked[0] == "rank:unique"
    # Close neighbours are still offered after it (above the similarity floor).
    assert len(ranked) > 10


def test_two_documents_holding_a_term_rank_above_every_document_lacking_it(rt: Runtime) -> None:
    ranked = [r.id for r in search(rt, TWICE).results]
    assert set(ranked[:2]) == {"rank:twice-a", "rank:twice-b"}


def test_total_counts_matches_and_the_neighbours_shown(rt: Runtime) -> None:
    response = search(rt, UNIQUE, facets=[FacetRequest(attribute="kind")])
    assert response.total == len(response.results)
    (facet,) = response.facets
    counts = {v.value: v.count for v in facet.values}
    # Facets count the same set as the total: the match and the neighbours shown.
    assert counts.get("report") == 1
    assert sum(counts.values()) == response.total


def test_facets_of_matches_and_neighbours_count_each_shown_document_once(rt: Runtime) -> None:
    response = search(rt, TWICE, facets=[FacetRequest(attribute="kind")])
    shown = {r.id for r in response.results}
    assert response.total == len(shown) and "rank:twice-a" in shown
    expected = {
        "report": sum(1 for i in shown if not i.startswith("rank:neighbour")),
        "code": sum(1 for i in shown if i.startswith("rank:neighbour")),
    }
    assert expected["code"] > 0
    (facet,) = response.facets
    assert [(v.value, v.count) for v in facet.values] == sorted(
        expected.items(), key=lambda kv: (-kv[1], kv[0])
    )
    # Only the top value asked: the same count, the other value left out.
    (top,) = search(rt, TWICE, facets=[FacetRequest(attribute="kind", max_results=1)]).facets
    assert [(v.value, v.count) for v in top.values] == [
        (facet.values[0].value, facet.values[0].count)
    ]


def test_a_unique_word_without_close_neighbours_is_not_padded(rt: Runtime) -> None:
    response = search(rt, "zebracorn", facets=[FacetRequest(attribute="kind")])
    assert [r.id for r in response.results] == ["rank:zebra"]
    assert response.total == 1
    assert response.facets[0].values[0].count == 1


def test_retrieve_returns_the_passage_holding_the_rare_term_first(rt: Runtime) -> None:
    passages = rt.engine.retrieve(RetrieveRequest(query_text=UNIQUE, page_size=5), WHO).passages
    assert passages[0].document_id == "rank:unique"
    assert UNIQUE in passages[0].text
    twice = rt.engine.retrieve(RetrieveRequest(query_text=TWICE, page_size=5), WHO).passages
    assert {p.document_id for p in twice[:2]} == {"rank:twice-a", "rank:twice-b"}
    assert all(TWICE in p.text for p in twice[:2])


def test_neighbours_beyond_the_lexical_window_count_as_the_matches_they_are(rt: Runtime) -> None:
    """With a window of 5, the kNN stage returns documents the lexical window did not hold;
    each of them matches "reference" too, so it must rank and count as a match (its BM25
    score comes with the kNN hits), never as an extra neighbour."""
    from search.engine import RankingParams, SearchEngine

    narrow = SearchEngine(
        rt.es, rt.settings.docs_alias, rt.embedder, params=RankingParams(rerank_top_n=5)
    )

    def top(mode: RetrievalMode) -> list[str]:
        found = narrow.search(QueryRequest(query_text="reference", page_size=5), WHO, mode=mode)
        return [r.id for r in found.results]

    assert set(top(RetrievalMode.DENSE)) - set(top(RetrievalMode.BM25))  # the case at hand
    matching = 51  # the 48 short references and the 3 reports; the garden notes lack the word
    seen: list[str] = []
    for page in range(1, 8):
        response = narrow.search(
            QueryRequest(query_text="reference", page_size=10, page_number=page), WHO
        )
        assert response.total == matching
        seen += [r.id for r in response.results]
    assert len(seen) == len(set(seen)) == matching
    assert "rank:zebra" not in seen
