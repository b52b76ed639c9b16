"""Quarry's process settings, read once in each process's ``main`` and passed down.

Secrets appear only as references (``env:NAME`` or ``file:/path``), never as values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Environment variables ``QUARRY_*`` (for example ``QUARRY_ES_URL``)."""

    model_config = SettingsConfigDict(env_prefix="QUARRY_", extra="ignore")

    es_url: str = "http://127.0.0.1:9200"
    """One node's URL, or several nodes of one cluster separated by commas."""
    es_api_key_ref: str | None = None
    es_username: str | None = None
    es_password_ref: str | None = None
    es_ca_cert: Path | None = None
    es_request_timeout_s: float = 30.0
    es_max_retries: int = Field(default=3, ge=0, le=10)
    """A request that fails to connect or times out is retried this often, on another node."""
    es_connections: int = Field(default=64, ge=1, le=1024)
    """Open connections kept per node: at least the threads that search at once (an API
    process serves 40 requests at a time, each with parallel stages). With the client's
    default of 10, searches queued for a connection while Elasticsearch had CPU to spare."""
    es_sniff: bool = False
    """Discover the cluster's other nodes (on start and after a node fails) beyond ``es_url``."""
    es_shards: int = Field(default=1, ge=1, le=1024)
    """Primary shards of the document index (fixed at creation; a reindex applies a change)."""
    es_system_shards: int = Field(default=1, ge=1, le=1024)
    """Primary shards of each of Quarry's small system indices."""
    es_replicas: int | None = Field(default=None, ge=0, le=16)
    """Replicas of every index; None: one as soon as the cluster has a second node, else none."""

    redis_url: str = "redis://127.0.0.1:6379/0"

    es_port: int | None = Field(default=None, ge=1, le=65535)
    """The stack's ``QUARRY_ES_PORT``: the local Elasticsearch's port when no URL is given."""
    redis_port: int | None = Field(default=None, ge=1, le=65535)
    """The stack's ``QUARRY_REDIS_PORT``: the local Redis's port when no URL is given."""

    @model_validator(mode="after")
    def _one_vector_space(self) -> Settings:
        """Queries and passages must be embedded in one vector space (int8 is another)."""
        query = self.embedding_query_backend
        if self.embedding_backend == "auto":
            return self  # known once the index is read; the embedder checks it then
        if query is not None and (query == "onnx-int8") != (self.embedding_backend == "onnx-int8"):
            raise ValueError(
                f"QUARRY_EMBEDDING_QUERY_BACKEND={query} makes vectors of another space than "
                f"QUARRY_EMBEDDING_BACKEND={self.embedding_backend}: queries would not match "
                "passages"
            )
        return self

    @model_validator(mode="after")
    def _ports(self) -> Settings:
        """One source of truth: the port variables the deploy scripts use also reach every
        Python process (an explicit URL still wins)."""
        if self.es_port is not None and "es_url" not in self.model_fields_set:
            self.es_url = f"http://127.0.0.1:{self.es_port}"
        if self.redis_port is not None and "redis_url" not in self.model_fields_set:
            self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        return self

    index_prefix: str = Field(default="quarry", pattern=r"^[a-z0-9][a-z0-9_-]*$")
    """All of Quarry's indices and aliases start with this (tests use their own)."""

    english_analysis: bool | None = None
    """None: English analysis whenever the node has Quarry's plugin; False: the standard analyzer."""

    embedding_model: str | None = None
    """A local sentence-transformers model folder; default: the bundled all-MiniLM-L6-v2."""
    embedding_backend: Literal["auto", "torch", "onnx", "onnx-int8"] = "auto"
    """``torch``, ``onnx`` (same vectors as torch) or ``onnx-int8`` (another vector space: the
    index must be reindexed, see docs/benchmarks.md); the index records which made its vectors.
    ``auto``: the backend the existing index records; for a new index ``torch`` where a CUDA
    GPU is visible (it embeds there; ``QUARRY_EMBEDDING_DEVICE=cpu`` opts out), else
    ``onnx-int8``."""
    embedding_query_backend: Literal["torch", "onnx", "onnx-int8"] | None = None
    """What embeds queries; default: ONNX Runtime of the backend's precision (the same vectors,
    several times faster on one short text). Must make the same vector space as the backend."""
    embedding_batch_size: int = Field(default=32, ge=1, le=512)
    embedding_cache_size: int = Field(default=50_000, ge=0)
    embedding_device: str | None = Field(default=None, pattern=r"^(cpu|cuda(:[0-9]+)?)$")
    """None: a CUDA GPU when one is visible, else the CPU; ``cpu`` keeps the model off the GPU."""
    embedding_query_cache_size: int = Field(default=10_000, ge=0)
    """Recent queries' vectors kept in memory (a repeated query skips the model)."""
    embedding_cache_path: Path | None = None
    """An SQLite file that shares vectors between processes and runs (tests, benchmarks)."""

    max_content_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    max_document_chars: int = Field(default=500_000, ge=1000)
    bulk_batch_docs: int = Field(default=32, ge=1, le=1000)

    rerank_top_n: int = Field(default=40, ge=1, le=1000)
    max_page_size: int = Field(default=100, ge=1, le=1000)
    max_query_chars: int = Field(default=1000, ge=10)

    sync_heartbeat_timeout_s: float = Field(default=300.0, gt=0)
    sync_lock_ttl_s: float = Field(default=60.0, gt=0)
    sync_max_attempts: int = Field(default=3, ge=1)
    """Attempts of a job whose workers keep dying (first run included) before it is failed."""
    sync_queue_timeout_s: float = Field(default=6 * 3600.0, gt=0)
    """A queued sync job no worker picks up within this is dropped (task expiry) and failed."""
    broker_visibility_timeout_s: float = Field(default=3600.0, gt=0)
    """How long Redis waits before re-delivering a task whose worker died without acking it."""
    sync_stalled_after_s: float = Field(default=60.0, gt=0)
    """A running job whose heartbeat is older than this shows as stalled, and is resumed by
    the scheduler's sweep once nobody holds its lock (its worker died)."""
    sync_requeue_after_s: float = Field(default=60.0, gt=0)
    """A job queued this long is enqueued again (its task message may have been lost)."""
    sync_infra_patience_s: float = Field(default=90.0, gt=0)
    """How long one Elasticsearch or Redis call of a sync retries transient errors (backoff)."""
    sync_infra_resumes: int = Field(default=5, ge=0)
    """Times a job interrupted by Elasticsearch or Redis resumes from its checkpoint by itself."""
    sync_infra_wait_s: float = Field(default=600.0, gt=0)
    """How long an interrupted job waits for Elasticsearch and Redis to come back, each time."""

    sync_batch_queue: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
    """The Celery queue of a sync's batch tasks (extract, embed, write); default
    ``<index_prefix>-batches``. Batch workers consume it, apart from the sync runners' queue."""
    sync_batches_per_sync: int = Field(default=4, ge=1, le=256)
    """Batches one sync may have sent but not yet counted (in flight, or done out of order)."""
    sync_batches_global: int = Field(default=16, ge=1, le=10_000)
    """Batches in flight across every sync of this deployment (a Redis semaphore whose slots
    expire ``sync_lock_ttl_s`` after their runner dies)."""
    sync_batch_max_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    """A batch is sent early once its items' content reaches this many bytes (a larger single
    item travels alone): what the broker holds is at most in-flight batches times this."""
    sync_batch_timeout_s: float = Field(default=900.0, gt=0)
    """A batch without a result after this long is sent again (its worker may have died)."""
    sync_batch_resends: int = Field(default=3, ge=0)
    """Times one batch is sent again before the job fails."""
    worker_warm_up: bool = False
    """Load the embedding model as a worker process starts, not on its first batch."""
    embedding_threads: int | None = Field(default=None, ge=1, le=1024)
    """Threads of the passage model (torch intra-op or ONNX Runtime) per process (None: the
    library's default, all cores); one per process lets N batch worker processes share N cores
    without contention."""

    @field_validator("es_url")
    @classmethod
    def _hosts_are_urls(cls, value: str) -> str:
        hosts = [h.strip() for h in value.split(",") if h.strip()]
        if not hosts:
            raise ValueError("QUARRY_ES_URL names no Elasticsearch node")
        for host in hosts:
            if not host.startswith(("http://", "https://")):
                raise ValueError(f"QUARRY_ES_URL: {host!r} is not an http:// or https:// URL")
        return ",".join(hosts)

    @property
    def es_hosts(self) -> list[str]:
        """The nodes named in ``es_url``."""
        return self.es_url.split(",")

    def index_settings(self, kind: Literal["documents", "system"]) -> dict[str, Any]:
        """Shards and replicas of a new index: one rule for the document and every system index."""
        shards = self.es_shards if kind == "documents" else self.es_system_shards
        return {"number_of_shards": shards, **replica_settings(self.es_replicas)}

    @property
    def batch_queue(self) -> str:
        """Where a sync's batch tasks wait for batch workers."""
        return self.sync_batch_queue or f"{self.index_prefix}-batches"

    @property
    def task_queue(self) -> str:
        """Where sync runs and other tasks wait (Celery's default queue)."""
        return f"{self.index_prefix}-tasks"

    @property
    def docs_alias(self) -> str:
        return f"{self.index_prefix}-docs"

    def system_index(self, name: str) -> str:
        return f"{self.index_prefix}-{name}"


def replica_settings(replicas: int | None) -> dict[str, Any]:
    """A fixed replica count, or ``auto_expand_replicas: 0-1`` (one replica once a node is spare)."""
    if replicas is None:
        return {"auto_expand_replicas": "0-1"}
    return {"auto_expand_replicas": "false", "number_of_replicas": replicas}
