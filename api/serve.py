"""``python -m api.serve``: the API under uvicorn with ``QUARRY_API_WORKERS`` processes.

Several processes share nothing but Elasticsearch and Redis: every cache in the API is either
per-process and bounded in time (resolved groups, ``QUARRY_IDENTITY_CACHE_S``) or lives in
Elasticsearch, so any process answers any request. Metrics add up across processes through
``PROMETHEUS_MULTIPROC_DIR``.
"""

from __future__ import annotations

import uvicorn
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServeSettings(BaseSettings):
    """``QUARRY_API_HOST``, ``QUARRY_API_PORT``, ``QUARRY_API_WORKERS``."""

    model_config = SettingsConfigDict(env_prefix="QUARRY_API_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    """API processes; each loads the embedding model (~300 MB), so size by memory and cores."""


def main() -> None:
    s = ServeSettings()
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=s.host,
        port=s.port,
        workers=s.workers,
        proxy_headers=True,
        log_level="info",
    )


if __name__ == "__main__":
    main()
