"""The ONNX backends: exported once from the packaged weights, vectors close to torch's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from search.embed import Embedder

TEXTS = [
    "Employees accrue twenty days of paid vacation per year.",
    "Use kubectl rollout status to follow a deploy.",
    "The database ran out of disk space during the night.",
]


@pytest.fixture(scope="module")
def torch_vectors() -> np.ndarray:
    return np.stack(Embedder(cache_size=0, device="cpu").encode(TEXTS))


def test_onnx_vectors_match_torch_and_the_export_is_reused(
    torch_vectors: np.ndarray, tmp_path: Path
) -> None:
    onnx = Embedder(cache_size=0, backend="onnx", device="cpu", export_dir=tmp_path)
    vectors = np.stack(onnx.encode(TEXTS))
    assert (vectors * torch_vectors).sum(axis=1).min() > 0.9999
    (exported,) = tmp_path.glob("*/model.onnx")
    made = exported.stat().st_mtime_ns
    again = Embedder(cache_size=0, backend="onnx", device="cpu", export_dir=tmp_path)
    again.encode(TEXTS[:1])
    assert exported.stat().st_mtime_ns == made  # not exported a second time

    int8 = Embedder(cache_size=0, backend="onnx-int8", device="cpu", export_dir=tmp_path)
    quantised = np.stack(int8.encode(TEXTS))
    assert np.allclose(np.linalg.norm(quantised, axis=1), 1.0, atol=1e-5)
    # Per-channel quantisation moves vectors a little (~0.995), never to another meaning.
    assert (quantised * torch_vectors).sum(axis=1).min() > 0.98
    # The nearest text to each text is still itself, as with torch.
    assert list(np.argmax(quantised @ torch_vectors.T, axis=1)) == [0, 1, 2]


def test_an_unknown_backend_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="embedding backend"):
        Embedder(backend="tensorflow")  # type: ignore[arg-type]


def test_queries_run_on_onnx_in_the_same_space_without_the_passage_model(
    torch_vectors: np.ndarray, tmp_path: Path
) -> None:
    embedder = Embedder(cache_size=0, query_cache_size=0, device="cpu", export_dir=tmp_path)
    assert embedder.backend == "torch" and embedder.query_backend == "onnx"
    vectors = np.stack([embedder.encode_query(t) for t in TEXTS])
    assert (vectors * torch_vectors).sum(axis=1).min() > 0.9999
    assert embedder._model is None  # torch was never loaded to answer queries
    assert embedder.space.key == Embedder(backend="onnx", export_dir=tmp_path).space.key


def test_int8_queries_have_a_session_of_their_own(tmp_path: Path) -> None:
    """Queries on the passage backend still get their own one-thread session: the passage
    session's pool (every core, spinning) burned most of a core per API between searches."""
    embedder = Embedder(
        cache_size=0, query_cache_size=0, backend="onnx-int8", device="cpu", export_dir=tmp_path
    )
    assert embedder.query_backend == "onnx-int8"
    query = embedder.encode_query(TEXTS[0])
    assert embedder._model is None  # the passage session was not needed to answer a query
    passage = embedder.encode([TEXTS[0]])[0]
    assert embedder._model is not None and embedder._model is not embedder._query_model
    assert float(np.dot(query, passage)) > 0.9999  # the same model and space


def test_a_query_backend_of_another_space_is_refused() -> None:
    with pytest.raises(ValueError, match="another space"):
        Embedder(backend="torch", query_backend="onnx-int8")
    with pytest.raises(ValueError, match="another space"):
        Embedder(backend="onnx-int8", query_backend="onnx")


def test_settings_refuse_a_query_backend_of_another_space() -> None:
    from pydantic import ValidationError

    from search.settings import Settings

    with pytest.raises(ValidationError, match="QUARRY_EMBEDDING_QUERY_BACKEND=onnx-int8"):
        Settings(embedding_backend="torch", embedding_query_backend="onnx-int8")
    assert Settings(embedding_backend="onnx-int8", embedding_query_backend="onnx-int8")
    # With ``auto`` the backend is known once the index is read; the embedder checks then.
    assert Settings(embedding_query_backend="onnx-int8").embedding_backend == "auto"
