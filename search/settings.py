"""Quarry's process settings, read once in each process's ``main`` and passed down.

Secrets appear only as references (``env:NAME`` or ``file:/path``), never as values.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Environment variables ``QUARRY_*`` (for example ``QUARRY_ES_URL``)."""

    model_config = SettingsConfigDict(env_prefix="QUARRY_", extra="ignore")

    es_url: str = "http://127.0.0.1:9200"
    es_api_key_ref: str | None = None
    es_username: str | None = None
    es_password_ref: str | None = None
    es_ca_cert: Path | None = None
    es_request_timeout_s: float = 30.0

    redis_url: str = "redis://127.0.0.1:6379/0"

    index_prefix: str = Field(default="quarry", pattern=r"^[a-z0-9][a-z0-9_-]*$")
    """All of Quarry's indices and aliases start with this (tests use their own)."""

    english_analysis: bool | None = None
    """None: English analysis whenever the node has Quarry's plugin; False: the standard analyzer."""

    embedding_model: str | None = None
    """A local sentence-transformers model folder; default: the bundled all-MiniLM-L6-v2."""
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

    rerank_top_n: int = Field(default=50, ge=1, le=1000)
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

    @property
    def docs_alias(self) -> str:
        return f"{self.index_prefix}-docs"

    def system_index(self, name: str) -> str:
        return f"{self.index_prefix}-{name}"
