"""Shared plumbing for the benchmark scripts: settings, a runtime, timing helpers."""

from __future__ import annotations

import os
import statistics
from pathlib import Path

from search.runtime import Runtime
from search.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def bench_runtime(prefix: str, english: bool | None = None) -> Runtime:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    settings = Settings(
        index_prefix=prefix,
        embedding_cache_path=Path(
            os.environ.get(
                "QUARRY_EMBEDDING_CACHE_PATH", ROOT / "var" / "cache" / "embeddings.sqlite"
            )
        ),
        max_page_size=100,
        english_analysis=english,
    )
    return Runtime(settings)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")
