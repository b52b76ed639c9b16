"""The one query path: principal → query → Elasticsearch (BM25 + kNN) → fusion → rerank → results.

Fusion is reciprocal rank fusion computed here (RRF in Elasticsearch needs a paid licence).
The rerank then scores the fused top N by combining the first-stage lexical evidence with the
exact dense similarity between the query and each document's best passage: reordering by the
dense similarity alone throws the lexical signal away and ranks worse than BM25.

A document that matches a word of the query is never buried under neighbours that match none
(see ``fused_score``), and such neighbours are shown, and counted, only above a similarity
floor: kNN always returns k neighbours, and padding a search for a rare term with 50 unrelated
documents is noise to a person. Retrieve ranks passages with the same function.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from elasticsearch import ApiError, Elasticsearch

from acl import Principal
from search.attribute_types import read_custom_types
from search.duplicates import (
    HASHED,
    TEXT_HASH,
    Copies,
    collapse,
    copies_aggs,
    copies_query,
    distinct_aggs,
    distinct_total,
    group_copies,
    hash_of,
    unhashed,
)
from search.embed import Embedder
from search.errors import BadRequest
from search.es import msearch
from search.filters import acl_filter, attribute_names, check_orderable, to_query
from search.mapping import (
    RESERVED_ATTRIBUTES,
    RESERVED_FIELD_TYPES,
    field_for,
)
from search.query import (
    FacetResult,
    FacetValue,
    Passage,
    QueryRequest,
    QueryResponse,
    ResultItem,
    RetrievalMode,
    RetrieveRequest,
    RetrieveResponse,
    SortOrder,
)
from search.relevance import Boosts, Relevance, resolve
from search.results import (
    DOC_ID,
    PAGE_SOURCE,
    best_passage,
    cosine,
    hit_id,
    ids_only,
    limit_words,
    page_query,
    result_item,
)

log = logging.getLogger(__name__)

_EMBED_POOL = ThreadPoolExecutor(max_workers=32, thread_name_prefix="quarry-embed")
"""Threads mostly wait here: concurrent queries are encoded in one batch (Embedder)."""
_STAGE_POOL = ThreadPoolExecutor(max_workers=32, thread_name_prefix="quarry-stage")
"""Independent follow-up requests of one search, run side by side."""

RRF_K = 60
LEXICAL = "lexical"
"""The lexical query's name where another stage asks for its score (``matched_queries``)."""
SPELL_CANDIDATES = 20
"""Candidate corrections asked per word; each is checked under the ACL before it is offered."""
MAX_RESULTS = 10_000
"""The deepest result a page may reach (Elasticsearch's result window and kNN candidate cap)."""
MAX_KNN = 10_000
RERANKED = 10.0
"""Reranked scores are 10 + a blend in [-1, 1] (the Kendra face reads confidence from it); the
rest of the fusion scores below 1. The order goes by tier first (``_Candidate.tier``)."""


@dataclass(frozen=True)
class RankingParams:
    """Tunable knobs of the ranking; defaults chosen on SciFact's train split (bench/relevance.py)."""

    title_boost: float = 1.0
    tie_breaker: float = 0.5
    lexical_weight: float = 0.3
    """Re-tuned on SciFact train (grid 0.1 to 0.4, 10 results per query): 0.3; docs/benchmarks.md."""
    rerank_top_n: int = 40
    """How many fused candidates are reranked, and how deep each first stage reads. SciFact
    train (and test) score the same with 40 as with 50 (docs/benchmarks.md); 40 costs less."""
    knn_candidates_factor: int = 1
    """The kNN stage explores ``rerank_top_n`` times this many candidates (``num_candidates``): 1 and 2
    score the same on SciFact, and 1 costs less."""
    min_dense_similarity: float = 0.5
    """A neighbour no word of the query matches must be at least this similar to be shown (and
    counted): kNN always returns k neighbours, and unrelated ones are noise to a person. A
    made-up token's nearest neighbours reach ~0.45 with all-MiniLM-L6-v2."""


def fused_score(
    lexical: float | None, top_lexical: float, dense: float | None, lexical_weight: float
) -> tuple[int, float]:
    """The rerank's (tier, score) for a document (or a passage, in Retrieve); order by both.

    BM25 is taken relative to the best BM25 score of the same search, so every lexical match
    keeps lexical credit (min-max scaling gave the weaker of two matches none). A lexical
    match (tier 1) ranks above every neighbour that matches no word of the query (tier 0)
    whatever their similarities: a person searching a rare term or code expects the
    documents holding it first, and a neighbour's similarity to a token it does not contain
    is noise.
    """
    similarity = dense if dense is not None else 0.0
    if lexical is None or top_lexical <= 0.0:
        return 0, RERANKED + (1.0 - lexical_weight) * similarity
    relative = min(1.0, lexical / top_lexical)
    return 1, RERANKED + lexical_weight * relative + (1.0 - lexical_weight) * similarity


@dataclass
class _Candidate:
    doc_id: str
    lexical: float | None = None
    lexical_rank: int | None = None
    dense: float | None = None
    dense_rank: int | None = None
    fused: float = 0.0
    final: float = 0.0
    tier: int = 0
    """Sorts before ``final``: reranked matches 3, matches outside the window 2, reranked
    neighbours that match no word 1, the rest 0."""
    passage_index: int | None = None
    text_hash: str | None = None
    """Copies of one content collapse into the best-ranked (``search.duplicates``)."""


class SearchEngine:
    def __init__(
        self,
        es: Elasticsearch,
        alias: str,
        embedder: Embedder,
        params: RankingParams | None = None,
        max_page_size: int = 100,
        max_query_chars: int = 1000,
        check_vectors: Callable[[], None] | None = None,
    ) -> None:
        self.es = es
        self.alias = alias
        self.embedder = embedder
        self.check_vectors = check_vectors
        """Raises when query vectors may not be compared with the index's (another space)."""
        self.params = params or RankingParams()
        self.max_page_size = max_page_size
        self.max_query_chars = max_query_chars

    # ----- request validation and the filter every stage shares
    def _check(self, text: str, page_size: int) -> str:
        text = " ".join(text.split())
        if not text:
            raise BadRequest("query_text: must contain at least one word")
        if len(text) > self.max_query_chars:
            raise BadRequest(
                f"query_text: at most {self.max_query_chars} characters, got {len(text)}"
            )
        if page_size > self.max_page_size:
            raise BadRequest(f"page_size: at most {self.max_page_size}, got {page_size}")
        return text

    def _filter(
        self,
        principal: Principal,
        request: QueryRequest | RetrieveRequest,
        custom: Callable[[], dict[str, str]] | None = None,
    ) -> list[dict[str, Any]]:
        """The ACL filter and the attribute filter, every value checked against its field's type.

        Sort and facet attributes are checked here too: everything a caller names is decided
        before Elasticsearch is asked, so a mistake is a 400 that names it.
        """
        clauses = [acl_filter(principal)]
        named = (
            attribute_names(request.attribute_filter)
            if request.attribute_filter is not None
            else set()
        )
        if isinstance(request, QueryRequest):
            named |= {f.attribute for f in request.facets}
            if request.sort is not None and request.sort.attribute != "_relevance":
                named.add(request.sort.attribute)
        types = (custom or self._custom_types)() if named - RESERVED_ATTRIBUTES.keys() else {}
        if isinstance(request, QueryRequest):
            for i, facet in enumerate(request.facets):
                check_orderable(f"facets[{i}].attribute", facet.attribute, types)
            if request.sort is not None and request.sort.attribute != "_relevance":
                check_orderable("sort.attribute", request.sort.attribute, types)
        if request.attribute_filter is not None:
            clauses.append(to_query(request.attribute_filter, types=types))
        return clauses

    def _boosts(
        self,
        request: QueryRequest,
        tuning: Mapping[str, Relevance],
        text: str,
        custom: Callable[[], dict[str, str]] | None = None,
    ) -> Boosts | None:
        """The query's relevance tuning, checked against the attributes' types (None: none)."""
        overrides = request.relevance_overrides
        if not tuning and not overrides:
            return None
        boosts = resolve(tuning, overrides, self.field_types(custom), text)
        return boosts or None

    def field_types(
        self, custom: Callable[[], dict[str, str]] | None = None
    ) -> dict[str, str | None]:
        """Every attribute's Elasticsearch type: the reserved ones and those documents carry."""
        types: dict[str, str | None] = dict(RESERVED_FIELD_TYPES)
        types.update((custom or self._custom_types)())
        return types

    def _custom_types(self) -> dict[str, str]:
        """Custom attributes' field types across the alias's backing indices (one cheap call)."""
        return read_custom_types(self.es, self.alias)

    def _lexical_query(
        self, text: str, filters: list[dict[str, Any]], also: list[str] | None = None
    ) -> dict[str, Any]:
        """BM25 over title and body; ``also`` adds these ids (neighbours, for facets)."""
        match = self._match(text)
        if also:
            return {
                "bool": {
                    "should": [match, {"ids": {"values": also}}],
                    "minimum_should_match": 1,
                    "filter": filters,
                }
            }
        return {"bool": {"must": [match], "filter": filters}}

    def _match(self, text: str, name: str | None = None) -> dict[str, Any]:
        """BM25 over title and body: the lexical signal of every stage."""
        p = self.params
        match: dict[str, Any] = {
            "query": text,
            "fields": [f"title^{p.title_boost}", "body"],
            "type": "best_fields",
            "tie_breaker": p.tie_breaker,
        }
        if name is not None:
            match["_name"] = name
        return {"multi_match": match}

    def _knn(
        self,
        vector: list[float],
        k: int,
        filters: list[dict[str, Any]],
        inner: bool,
        candidates: int | None = None,
    ) -> dict[str, Any]:
        knn: dict[str, Any] = {
            "field": "passages.vector",
            "query_vector": vector,
            "k": k,
            # Elasticsearch caps num_candidates (and so k) at 10,000: the deepest page allowed.
            "num_candidates": min(MAX_KNN, max(k, candidates or max(100, k * 2))),
            "filter": filters,
        }
        if inner:
            # The best passage is known by its offset; its text is fetched for the page only.
            knn["inner_hits"] = {"size": 1, "_source": False}
        return knn

    # ----- the query path
    def _run(self, **body: Any) -> dict[str, Any]:
        with _rejected_as_bad_request():
            return dict(self.es.search(index=self.alias, **body).body)

    def _msearch(self, searches: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Several searches of the alias in one round trip (bodies in REST form)."""
        with _rejected_as_bad_request():
            return msearch(self.es, [({"index": self.alias}, body) for body in searches])

    def search(
        self,
        request: QueryRequest,
        principal: Principal,
        mode: RetrievalMode = RetrievalMode.RERANK,
        exclude: list[dict[str, Any]] | None = None,
        tuning: Mapping[str, Relevance] | None = None,
    ) -> QueryResponse:
        """``exclude``: filter clauses of extras (featured results) that every stage applies.
        ``tuning``: the index's relevance tuning (``search.relevance``); the request's
        ``relevance_overrides`` replace it attribute by attribute, in the rerank only."""
        text = self._check(request.query_text, request.page_size)
        custom = functools.cache(self._custom_types)  # the mapping is read once per search
        filters = self._filter(principal, request, custom) + (exclude or [])
        boosts = self._boosts(request, tuning or {}, text, custom)
        start = (request.page_number - 1) * request.page_size
        end = start + request.page_size
        if end > MAX_RESULTS:
            raise BadRequest(
                f"page_number * page_size may not exceed {MAX_RESULTS:,} results (got {end:,})"
            )
        aggs = self._facet_aggs(request)
        if request.sort is not None and request.sort.attribute != "_relevance":
            return self._sorted_search(request, text, filters, aggs, start)
        window = max(self.params.rerank_top_n, end)
        # Deeper pages read more lexical matches, but the same neighbours and the same fused
        # ranks (``_fuse``): every page is a slice of one ranking, nothing shown twice.
        neighbours_k = window if mode is RetrievalMode.DENSE else self.params.rerank_top_n
        lexical: dict[str, Any] = {}
        dense: dict[str, Any] = {}
        vector: list[float] | None = None
        if mode is not RetrievalMode.BM25 and self.check_vectors is not None:
            self.check_vectors()
        # The query is embedded, and its neighbours found, while Elasticsearch runs the
        # lexical search: the two stages do not depend on each other.
        pending = (
            _EMBED_POOL.submit(self._dense_stage, text, neighbours_k, filters, aggs, mode)
            if mode is not RetrievalMode.BM25
            else None
        )
        if mode is not RetrievalMode.DENSE:
            lexical = self._lexical_stage(text, window, filters, aggs)
        if pending is not None:
            vector, dense = pending.result()
        candidates = self._fuse(lexical, dense)
        if mode is RetrievalMode.RERANK and vector is not None and candidates:
            self._rerank(candidates, vector, boosts)
        ranked = sorted(candidates.values(), key=lambda c: (-c.tier, -c.final))
        if mode is not RetrievalMode.DENSE:
            floor = self.params.min_dense_similarity
            ranked = [c for c in ranked if c.lexical is not None or (c.dense or 0.0) >= floor]
        # One result per content: the best-ranked readable copy stands for the others.
        ranked = collapse(ranked, lambda c: c.text_hash)
        neighbours = [c for c in ranked if c.lexical is None] if lexical else []
        base = lexical or dense
        # Lexical matches plus the neighbours shown: the results a person can page through,
        # copies of one content counted once (every kNN hit is ranked, so counted exactly).
        if lexical:
            matches = distinct_total(lexical.get("aggregations", {}))
            total = (matches if matches is not None else 0) + len(neighbours)
        else:
            total = len(ranked)
        aggregations = base.get("aggregations", {}) if base else {}
        if aggs and neighbours and lexical:
            aggregations = self._facets_with(aggregations, aggs, text, filters, neighbours)
        page = ranked[start:end]
        results = self._results(page, text, filters, vector)
        suggestion = None
        if total == 0 and lexical:
            suggestion = self._spell(text, filters)
        return QueryResponse(
            query_id=uuid.uuid4().hex,
            total=total,
            results=results,
            facets=self._facets(request, aggregations),
            spell_suggestion=suggestion,
        )

    def _lexical_stage(
        self, text: str, window: int, filters: list[dict[str, Any]], aggs: dict[str, Any]
    ) -> dict[str, Any]:
        """The ``window`` best lexical matches, one per content, with the total and facets.

        Copies collapse in Elasticsearch: where a window of hits could be copies of a few
        contents, a page would come out short and the other contents could never be reached.
        Documents without a hash (no text, or indexed before hashes) must not collapse into
        one group, so when some match they are read apart and merged by score.
        """
        response = self._run(
            query=self._lexical_query(text, filters),
            size=window,
            **ids_only(TEXT_HASH),
            collapse={"field": TEXT_HASH},
            track_total_hits=True,
            aggs={**aggs, **distinct_aggs()},
        )
        if not unhashed(response.get("aggregations", {})):
            return response
        apart = self._run(
            query=self._lexical_query(text, [*filters, {"bool": {"must_not": [HASHED]}}]),
            size=window,
            **ids_only(),
        )
        hits = [h for h in response["hits"]["hits"] if hash_of(h) is not None]
        hits += apart["hits"]["hits"]
        hits.sort(key=lambda h: -(h.get("_score") or 0.0))
        response["hits"]["hits"] = hits[:window]
        return response

    def _dense_stage(
        self,
        text: str,
        window: int,
        filters: list[dict[str, Any]],
        aggs: dict[str, Any],
        mode: RetrievalMode,
    ) -> tuple[list[float], dict[str, Any]]:
        """The query's vector and its ``window`` nearest readable documents.

        Beside the hybrid modes' neighbours, the lexical query is named in a rescore that
        leaves their order alone (weight 0), so each neighbour that matches a word comes
        back with its BM25 score (``matched_queries``). A neighbour beyond the lexical window
        would otherwise pass for one that matches no word (and be hidden under the floor, or
        counted twice in the total); one request instead of a second lexical search for them.
        """
        vector: list[float] = self.embedder.encode_query(text).tolist()
        body: dict[str, Any] = {"size": window, **ids_only(TEXT_HASH)}
        explore = window * self.params.knn_candidates_factor
        if mode is RetrievalMode.DENSE:
            body.update(
                knn=self._knn(vector, window, filters, inner=True, candidates=explore),
                aggs=aggs or None,
                track_total_hits=True,
            )
        else:
            # Without inner hits: with a rescore they cost more than the whole search. The
            # page finds its neighbours' best passages itself (``_results``).
            body.update(
                knn=self._knn(vector, window, filters, inner=False, candidates=explore),
                rescore={
                    "window_size": window,
                    "query": {
                        "rescore_query": self._match(text, LEXICAL),
                        "query_weight": 1.0,
                        "rescore_query_weight": 0.0,
                    },
                },
                include_named_queries_score=True,
            )
        return vector, self._run(**body)

    def _fuse(self, lexical: dict[str, Any], dense: dict[str, Any]) -> dict[str, _Candidate]:
        """Reciprocal rank fusion over each list's first ``rerank_top_n`` ranks only.

        A deeper page reads more lexical matches; counting their ranks would move documents
        into the reranked set that an earlier page left out, and a result would show on two
        pages. Beyond those ranks, candidates keep each list's order (a stable sort).
        """
        depth = self.params.rerank_top_n
        candidates: dict[str, _Candidate] = {}
        for rank, hit in enumerate(lexical.get("hits", {}).get("hits", []), start=1):
            c = candidates.setdefault(hit_id(hit), _Candidate(hit_id(hit)))
            c.lexical, c.lexical_rank = hit["_score"], rank
            c.text_hash = hash_of(hit)
            c.fused += 1.0 / (RRF_K + rank) if rank <= depth else 0.0
        for rank, hit in enumerate(dense.get("hits", {}).get("hits", []), start=1):
            c = candidates.setdefault(hit_id(hit), _Candidate(hit_id(hit)))
            c.dense, c.dense_rank = cosine(hit["_score"]), rank
            c.passage_index = best_passage(hit)
            c.text_hash = hash_of(hit)
            c.fused += 1.0 / (RRF_K + rank) if rank <= depth else 0.0
            named = hit.get("matched_queries")
            if c.lexical is None and isinstance(named, dict) and LEXICAL in named:
                c.lexical = float(named[LEXICAL])  # a match beyond the lexical window
        for c in candidates.values():
            c.final = c.fused
        return candidates

    def _rerank(
        self,
        candidates: dict[str, _Candidate],
        vector: list[float],
        boosts: Boosts | None = None,
    ) -> None:
        """Best-passage similarity for the fused top N, combined with the lexical score.

        Candidates the kNN stage already scored keep that score; the others (lexical-only
        matches) are scored exactly in one request restricted to their ids. They all passed
        the ACL filter in the first stage, and the results fetch applies it again.
        Relevance tuning adds its bounded boost to the score, inside each tier, so it never
        lifts a document holding no word of the query above one that holds some.
        """
        top = sorted(candidates.values(), key=lambda c: -c.fused)[: self.params.rerank_top_n]
        boosting = (
            _STAGE_POOL.submit(self._attribute_values, [c.doc_id for c in top], boosts)
            if boosts
            else None
        )
        ids = [c.doc_id for c in top if c.dense is None]
        if ids:
            response = self._run(
                knn={
                    **self._knn(vector, len(ids), [{"ids": {"values": ids}}], inner=True),
                    "num_candidates": max(100, len(ids) * 2),
                },
                size=len(ids),
                **ids_only(),
            )
            for hit in response["hits"]["hits"]:
                c = candidates[hit_id(hit)]
                c.dense = cosine(hit["_score"])
                c.passage_index = best_passage(hit)
        best = max((c.lexical for c in candidates.values() if c.lexical is not None), default=0.0)
        for c in top:
            # Matches first, then neighbours, each ahead of the rest of the fusion.
            tier, c.final = fused_score(c.lexical, best, c.dense, self.params.lexical_weight)
            c.tier = 3 if tier else 1
        if boosting is not None and boosts is not None:
            for doc_id, boost in boosts.scores(boosting.result()).items():
                candidates[doc_id].final += boost
        chosen = {c.doc_id for c in top}
        for c in candidates.values():
            if c.doc_id not in chosen and c.lexical is not None:
                # A match outside the window still ranks above the neighbours inside it.
                c.tier = 2

    def _attribute_values(
        self, ids: list[str], boosts: Boosts | None
    ) -> dict[str, dict[str, list[Any]]]:
        """The tuned attributes' values of the reranked candidates (doc values: dates in ms)."""
        if not ids or not boosts:
            return {}
        fields = [
            {"field": field, "format": "epoch_millis"} if kind == "date" else {"field": field}
            for field, kind, _ in boosts.tuned.values()
        ]
        response = self._run(
            query={"ids": {"values": ids}},
            size=len(ids),
            stored_fields="_none_",
            docvalue_fields=[DOC_ID, *fields],
        )
        return {hit_id(h): h.get("fields", {}) for h in response["hits"]["hits"]}

    def _sorted_search(
        self,
        request: QueryRequest,
        text: str,
        filters: list[dict[str, Any]],
        aggs: dict[str, Any],
        start: int,
    ) -> QueryResponse:
        """Sorted by an attribute; copies of one content collapse into the first in that order.

        Hits are read from the first one so that a copy collapsed on an earlier page never
        reappears on a later one (pages stay within ``MAX_RESULTS``).
        """
        assert request.sort is not None
        sort_field = field_for(request.sort.attribute)
        order = "asc" if request.sort.order is SortOrder.ASC else "desc"
        end = start + request.page_size
        read: list[_Candidate] = []
        kept: list[_Candidate] = []
        want = end
        first: dict[str, Any] | None = None
        while True:
            size = min(want, MAX_RESULTS - len(read))
            response = self._run(
                query=self._lexical_query(text, filters),
                sort=[
                    {sort_field: {"order": order, "missing": "_last", "unmapped_type": "keyword"}},
                    "_score",
                ],
                from_=len(read),
                size=size,
                **ids_only(TEXT_HASH),
                track_total_hits=first is None,
                aggs={**aggs, **distinct_aggs()} if first is None else None,
            )
            first = first or response
            hits = response["hits"]["hits"]
            read.extend(
                _Candidate(hit_id(h), lexical=h.get("_score") or 0.0, text_hash=hash_of(h))
                for h in hits
            )
            kept = collapse(read, lambda c: c.text_hash)
            if len(kept) >= end or len(hits) < size or len(read) >= MAX_RESULTS:
                break
            want = max(request.page_size, end - len(kept))
        assert first is not None
        distinct = distinct_total(first.get("aggregations", {}))
        return QueryResponse(
            query_id=uuid.uuid4().hex,
            total=distinct if distinct is not None else first["hits"]["total"]["value"],
            results=self._results(kept[start:end], text, filters),
            facets=self._facets(request, first.get("aggregations", {})),
        )

    # ----- results: fields, excerpts with highlight offsets
    def _results(
        self,
        page: list[_Candidate],
        text: str,
        filters: list[dict[str, Any]],
        vector: list[float] | None = None,
    ) -> list[ResultItem]:
        """Fields, excerpt and highlights for one page; the ACL filter applies here again.

        One round trip: the page's documents, the other readable copies of their contents
        and, for neighbours that match no word (``vector`` given), their best passages.
        """
        if not page:
            return []
        ids = [c.doc_id for c in page]
        searches: list[dict[str, Any]] = [
            {
                "query": page_query(text, [{"ids": {"values": ids}}, *filters]),
                "size": len(ids),
                "_source": PAGE_SOURCE,
            }
        ]
        hashes = sorted({c.text_hash for c in page if c.text_hash})
        if hashes:
            searches.append(
                {
                    "query": copies_query(hashes, ids, filters),
                    "size": 0,
                    "aggs": copies_aggs(hashes),
                }
            )
        unplaced = [c.doc_id for c in page if c.passage_index is None and c.lexical is None]
        if vector is not None and unplaced:
            knn = self._knn(vector, len(unplaced), [{"ids": {"values": unplaced}}], inner=True)
            knn["num_candidates"] = max(100, len(unplaced) * 2)
            searches.append({"knn": knn, "size": len(unplaced), **ids_only()})
        found = self._msearch(searches)
        by_id = {h["_id"]: h for h in found[0]["hits"]["hits"]}
        copies = group_copies(found[1]) if hashes else Copies()
        if copies.untitled:
            titled = self._run(
                query={"ids": {"values": list(copies.untitled)}},
                size=len(copies.untitled),
                source=["title"],
            )
            for hit in titled["hits"]["hits"]:
                copies.untitled[hit["_id"]].title = hit["_source"].get("title") or ""
        if vector is not None and unplaced:
            placed = {hit_id(h): best_passage(h) for h in found[-1]["hits"]["hits"]}
            for c in page:
                if c.doc_id in placed:
                    c.passage_index = placed[c.doc_id]
        shown = [c for c in page if c.doc_id in by_id]  # absent: deleted between the stages
        return [
            result_item(
                by_id[c.doc_id],
                c.passage_index,
                round(c.final if c.final else (c.lexical or 0.0), 6),
                also_in=copies.listed.get(c.text_hash, []) if c.text_hash else [],
                also_in_total=copies.counts.get(c.text_hash, 0) if c.text_hash else 0,
            )
            for c in shown
        ]

    # ----- facets and suggestions
    def _facet_aggs(self, request: QueryRequest) -> dict[str, Any]:
        return {
            f"facet_{i}": {"terms": {"field": field_for(f.attribute), "size": f.max_results}}
            for i, f in enumerate(request.facets)
        }

    def _facets_with(
        self,
        lexical: dict[str, Any],
        aggs: dict[str, Any],
        text: str,
        filters: list[dict[str, Any]],
        neighbours: list[_Candidate],
    ) -> dict[str, Any]:
        """Facets over the lexical matches and the neighbours shown (disjoint sets).

        When neither side's buckets were cut off, the counts add up exactly: the neighbours
        (found by the ACL-filtered kNN stage) are aggregated alone, a few dozen documents,
        instead of running the whole lexical query again with them."""
        ids = [c.doc_id for c in neighbours]
        extra = self._run(query={"ids": {"values": ids}}, size=0, aggs=aggs).get("aggregations", {})
        merged: dict[str, Any] = {}
        for name, spec in aggs.items():
            first, second = lexical.get(name, {}), extra.get(name, {})
            if first.get("sum_other_doc_count", 1) or second.get("sum_other_doc_count", 1):
                return dict(  # a side was truncated: count the union in Elasticsearch
                    self._run(
                        query=self._lexical_query(text, filters, also=ids), size=0, aggs=aggs
                    ).get("aggregations", {})
                )
            counts: dict[Any, dict[str, Any]] = {}
            for bucket in [*first.get("buckets", []), *second.get("buckets", [])]:
                known = counts.setdefault(bucket["key"], {**bucket, "doc_count": 0})
                known["doc_count"] += bucket["doc_count"]
            # Elasticsearch's order: most documents first, then by key.
            buckets = sorted(counts.values(), key=lambda b: (-b["doc_count"], b["key"]))
            merged[name] = {"buckets": buckets[: spec["terms"]["size"]]}
        return merged

    def _facets(self, request: QueryRequest, aggregations: dict[str, Any]) -> list[FacetResult]:
        out = []
        for i, f in enumerate(request.facets):
            buckets = aggregations.get(f"facet_{i}", {}).get("buckets", [])
            out.append(
                FacetResult(
                    attribute=f.attribute,
                    values=[
                        FacetValue(
                            value=str(b.get("key_as_string", b["key"])), count=b["doc_count"]
                        )
                        for b in buckets
                    ],
                )
            )
        return out

    def _spell(self, text: str, filters: list[dict[str, Any]]) -> str | None:
        """A corrected query made only of words this user may read.

        The term suggester proposes candidates from every document's words, so each candidate
        is kept only if a readable document holds that exact, unstemmed word. The suggester
        runs in ``always`` mode with no frequency cut-off, so whether the typed word itself
        exists somewhere plays no part: a word found only in hidden documents is answered
        exactly like a word found nowhere.
        """
        suggest = self.es.search(
            index=self.alias,
            size=0,
            suggest={
                "spell": {
                    "text": text,
                    "term": {
                        "field": "spell",
                        "suggest_mode": "always",
                        "size": SPELL_CANDIDATES,
                        "max_term_freq": 1e9,
                        "sort": "score",
                    },
                }
            },
        ).body.get("suggest", {})
        entries = suggest.get("spell", [])
        words = text.split()
        candidates: list[list[str]] = []
        for word in words:
            key = word.lower().strip(".,;:!?")
            entry = next((e for e in entries if e["text"].lower() == key), None)
            options = [o["text"] for o in (entry or {}).get("options", [])]
            candidates.append([o for o in options if o != key])
        readable = self._readable_words({o for c in candidates for o in c}, filters)
        kept: list[str] = []
        changed = False
        for word, options in zip(words, candidates, strict=True):
            best = next((o for o in options if o in readable), None)
            kept.append(best or word)
            changed = changed or best is not None
        return " ".join(kept) if changed else None

    def _readable_words(self, words: set[str], filters: list[dict[str, Any]]) -> set[str]:
        """Those of ``words`` that some document readable under ``filters`` holds."""
        ordered = sorted(words)
        if not ordered:
            return set()
        searches: list[dict[str, Any]] = []
        for word in ordered:
            searches.append({"index": self.alias})
            searches.append(
                {
                    "size": 0,
                    "terminate_after": 1,
                    "track_total_hits": 1,
                    "query": {"bool": {"filter": [{"term": {"spell": word}}, *filters]}},
                }
            )
        responses = self.es.msearch(searches=searches).body["responses"]
        return {
            word
            for word, found in zip(ordered, responses, strict=True)
            if found.get("hits", {}).get("total", {}).get("value", 0) > 0
        }

    # ----- passages for retrieval-augmented generation
    def retrieve(self, request: RetrieveRequest, principal: Principal) -> RetrieveResponse:
        """Passages by the same fused logic as the rerank, with the ACL inside both stages.

        BM25 over passage texts and kNN over passage vectors each propose passages; every
        proposed passage then gets both signals (its exact similarity, its BM25 score if it
        matches a word) and is scored by ``fused_score``: a passage holding a query word ranks
        above one holding none, and those only above the similarity floor.
        """
        text = self._check(request.query_text, request.page_size)
        filters = self._filter(principal, request)
        if self.check_vectors is not None:
            self.check_vectors()
        pending = _EMBED_POOL.submit(self.embedder.encode_query, text)
        size = request.page_size
        docs = size * 3
        meta = {"includes": ["doc_id", "title", "source_uri"]}
        lexical = self._run(
            query=self._passage_match(text, filters, 3, ["passages.text", "passages.index"]),
            size=docs,
            source=meta,
        )
        vector = pending.result().tolist()
        knn = self._knn(vector, docs, filters, inner=False)
        knn["inner_hits"] = {"size": 3, "_source": ["passages.text", "passages.index"]}
        dense = self._run(knn=knn, size=docs, source=meta)

        found: dict[tuple[str, int], _Found] = {}
        for response, is_lexical in ((lexical, True), (dense, False)):
            for hit in response["hits"]["hits"]:
                for inner in _inner(hit):
                    key = (hit["_id"], int(inner["_nested"]["offset"]))
                    f = found.setdefault(key, _Found(hit["_source"], inner["_source"]))
                    if is_lexical:
                        f.lexical = inner["_score"]
                    else:
                        f.dense = cosine(inner["_score"])
        doc_ids = sorted({doc_id for doc_id, _ in found})
        if doc_ids:
            # The other signal for every proposed passage, all passages of those documents.
            only = [*filters, {"ids": {"values": doc_ids}}]
            every = 100  # Elasticsearch's default cap on inner hits per document
            exact = self._knn(vector, len(doc_ids), only, inner=False)
            exact["inner_hits"] = {"size": every, "_source": False}
            exact["num_candidates"] = max(100, len(doc_ids) * 2)
            # Both in one round trip; hits by doc values alone (``ids_only``).
            similar, matching = self._msearch(
                [
                    {"knn": exact, "size": len(doc_ids), **ids_only()},
                    {
                        "query": self._passage_match(text, only, every, False),
                        "size": len(doc_ids),
                        **ids_only(),
                    },
                ]
            )
            for response, is_lexical in ((matching, True), (similar, False)):
                for hit in response["hits"]["hits"]:
                    for inner in _inner(hit):
                        f_ = found.get((hit_id(hit), int(inner["_nested"]["offset"])))
                        if f_ is None:
                            continue
                        if is_lexical:
                            f_.lexical = inner["_score"]
                        else:
                            f_.dense = cosine(inner["_score"])
        best = max((f.lexical for f in found.values() if f.lexical is not None), default=0.0)
        floor = self.params.min_dense_similarity
        scored = [
            (fused_score(f.lexical, best, f.dense, self.params.lexical_weight), f)
            for f in found.values()
            if f.lexical is not None or (f.dense or 0.0) >= floor
        ]
        scored.sort(key=lambda pair: (-pair[0][0], -pair[0][1]))
        passages = [
            Passage(
                text=limit_words(f.passage.get("text", ""), 200),
                document_id=f.doc["doc_id"],
                title=f.doc.get("title") or "",
                uri=f.doc.get("source_uri"),
                # The passage's similarity, as before: Kendra's confidence buckets read it.
                score=round(f.dense if f.dense is not None else 0.0, 6),
                passage_index=f.passage.get("index", 0),
            )
            for _, f in scored[:size]
        ]
        return RetrieveResponse(query_id=uuid.uuid4().hex, passages=passages)

    def _passage_match(
        self, text: str, filters: list[dict[str, Any]], passages: int, source: Any
    ) -> dict[str, Any]:
        return {
            "bool": {
                "must": [
                    {
                        "nested": {
                            "path": "passages",
                            "score_mode": "max",
                            "query": {"match": {"passages.text": text}},
                            "inner_hits": {"size": passages, "_source": source},
                        }
                    }
                ],
                "filter": filters,
            }
        }


@contextmanager
def _rejected_as_bad_request() -> Iterator[None]:
    """A request Elasticsearch rejects (400: a bad filter value, a malformed query) is the
    caller's mistake; anything else is the backend's."""
    try:
        yield
    except ApiError as exc:
        if exc.status_code == 400:
            raise BadRequest(f"search failed: {exc.message}") from exc
        raise


@dataclass
class _Found:
    """A passage proposed by either stage of Retrieve, with the signals known for it."""

    doc: dict[str, Any]
    passage: dict[str, Any]
    lexical: float | None = None
    dense: float | None = None


def _inner(hit: dict[str, Any]) -> list[dict[str, Any]]:
    hits: list[dict[str, Any]] = (
        hit.get("inner_hits", {}).get("passages", {}).get("hits", {}).get("hits", [])
    )
    return hits
