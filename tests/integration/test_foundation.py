"""The thin vertical slice: documents indexed through a real Celery worker, found by BM25 and kNN."""

from __future__ import annotations

import pytest
from elasticsearch import Elasticsearch

from search.embed import DIMENSIONS
from search.runtime import Runtime
from search.settings import Settings
from tests.corpus import documents
from tests.stack import WorkerProcess
from worker.app import create_app


@pytest.fixture(scope="module")
def indexed(settings: Settings, runtime: Runtime, worker: WorkerProcess) -> dict[str, object]:
    app = create_app(settings)
    payload = [d.model_dump(mode="json") for d in documents()]
    result = app.send_task("quarry.index_documents", args=["corpus", payload]).get(timeout=300)
    return result


def test_worker_is_a_real_process(settings: Settings, worker: WorkerProcess) -> None:
    import os

    answer = create_app(settings).send_task("quarry.ping").get(timeout=60)
    assert answer["pong"] is True
    assert answer["pid"] != os.getpid()


def test_index_has_text_and_384_dimension_vectors(
    runtime: Runtime, es: Elasticsearch, indexed
) -> None:
    # Other modules of the session may have written the same corpus first: then it is unchanged.
    written = indexed["added"] + indexed["modified"] + indexed["unchanged"]
    assert sorted(written) == sorted(d.id for d in documents())
    assert not indexed["failed"]
    mapping = es.indices.get_mapping(index=runtime.settings.docs_alias).body
    props = next(iter(mapping.values()))["mappings"]["properties"]
    assert props["body"]["type"] == "text"
    assert props["passages"]["properties"]["vector"] == {
        "type": "dense_vector",
        "dims": DIMENSIONS,
        "index": True,
        "similarity": "dot_product",
        "index_options": props["passages"]["properties"]["vector"]["index_options"],
    }


def test_bm25_ranks_the_expected_document_first(
    runtime: Runtime, es: Elasticsearch, indexed
) -> None:
    hits = es.search(
        index=runtime.settings.docs_alias,
        query={
            "multi_match": {"query": "kubectl rollout helm charts", "fields": ["title", "body"]}
        },
    ).body["hits"]["hits"]
    assert hits[0]["_id"] == "corpus:kubernetes"


def test_knn_ranks_the_expected_document_first(
    runtime: Runtime, es: Elasticsearch, indexed
) -> None:
    vector = runtime.embedder.encode_one("how many days off do employees get each year").tolist()
    hits = es.search(
        index=runtime.settings.docs_alias,
        knn={"field": "passages.vector", "query_vector": vector, "k": 3, "num_candidates": 50},
    ).body["hits"]["hits"]
    assert hits[0]["_id"] == "corpus:vacation"


def test_english_analysis_is_installed(runtime: Runtime) -> None:
    # Stemming comes from Quarry's own analysis plugin (analysis-common is not on Maven Central).
    assert runtime.index.english_available()
    tokens = runtime.es.indices.analyze(analyzer="quarry_english", text="The running Dogs").body[
        "tokens"
    ]
    assert [t["token"] for t in tokens] == ["run", "dog"]
