"""Wires the search core's parts together once per process, from ``Settings``.

The API, the worker and the CLI each build one ``Runtime`` in their ``main`` and share it;
heavy parts (the embedding model) load on first use.
"""

from __future__ import annotations

from functools import cached_property

from elasticsearch import Elasticsearch

from search.embed import Embedder, EmbeddingSpace
from search.embed_onnx import Backend
from search.engine import RankingParams, SearchEngine
from search.es import make_client
from search.identity import IdentityStore
from search.index import IndexManager, backend_for
from search.pipeline import Pipeline
from search.settings import Settings
from search.writer import IndexWriter


class Runtime:
    def __init__(self, settings: Settings | None = None, embedder: Embedder | None = None) -> None:
        self.settings = settings or Settings()
        self._embedder = embedder

    @cached_property
    def es(self) -> Elasticsearch:
        return make_client(self.settings)

    @cached_property
    def backend(self) -> Backend:
        """The embedding backend: the setting, or with ``auto`` the index's own (``backend_for``)."""
        if self._embedder is not None:
            return self._embedder.backend
        s = self.settings
        return backend_for(self.es, s.docs_alias, s.embedding_backend, s.embedding_device)

    @cached_property
    def embedder(self) -> Embedder:
        if self._embedder is not None:
            return self._embedder
        s = self.settings
        return Embedder(
            model_path=s.embedding_model,
            batch_size=s.embedding_batch_size,
            cache_size=s.embedding_cache_size,
            cache_path=s.embedding_cache_path,
            query_cache_size=s.embedding_query_cache_size,
            backend=self.backend,
            query_backend=s.embedding_query_backend,
            device=s.embedding_device,
            threads=s.embedding_threads,
        )

    @property
    def space(self) -> EmbeddingSpace:
        """The configured embedder's vector space, without loading (or building) the embedder."""
        if self._embedder is not None:
            return self._embedder.space
        return EmbeddingSpace.of(self.settings.embedding_model, self.backend)

    @cached_property
    def index(self) -> IndexManager:
        s = self.settings
        return IndexManager(
            self.es,
            s.docs_alias,
            s.english_analysis,
            s.index_settings("documents"),
            space=self.space,
        )

    @cached_property
    def writer(self) -> IndexWriter:
        return IndexWriter(self.es, self.settings.docs_alias)

    @cached_property
    def identities(self) -> IdentityStore:
        return IdentityStore(
            self.es,
            self.settings.system_index("identities"),
            self.settings.index_settings("system"),
        )

    @cached_property
    def pipeline(self) -> Pipeline:
        self.index.ensure()
        return Pipeline(
            self.writer,
            self.embedder,
            self.identities,
            self.settings.max_document_chars,
            check_vectors=self.index.check_space,
        )

    @cached_property
    def engine(self) -> SearchEngine:
        self.index.ensure()
        return SearchEngine(
            self.es,
            self.settings.docs_alias,
            self.embedder,
            RankingParams(rerank_top_n=self.settings.rerank_top_n),
            max_page_size=self.settings.max_page_size,
            max_query_chars=self.settings.max_query_chars,
            check_vectors=self.index.check_space,
        )
