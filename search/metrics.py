"""Prometheus metrics of the search core, the API and the workers: defined once, here.

Every process (API, worker, scheduler, CLI) records into ``prometheus_client``'s registry. With
several processes (uvicorn workers, Celery's prefork children) set ``PROMETHEUS_MULTIPROC_DIR``
to an empty folder that all of them share: each process then writes its values to files there
and ``exposition()`` adds them up across processes, as prometheus-client's multiprocess mode
does. Labels have few values (route templates, statuses, modes, reasons, outcomes), never
user input.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from search.pipeline import BatchStats

_LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_BATCH = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
_JOB = (1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 48 * 3600)

HTTP_REQUESTS = Counter(
    "quarry_http_requests_total", "API requests answered", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "quarry_http_request_duration_seconds",
    "API request latency by route",
    ["method", "route"],
    buckets=_LATENCY,
)
QUERY_LATENCY = Histogram(
    "quarry_query_duration_seconds",
    "Search latency in the query path, by ranking mode",
    ["mode"],
    buckets=_LATENCY,
)
TOKEN_REJECTIONS = Counter(
    "quarry_token_rejections_total", "User-context tokens refused (401), by reason", ["reason"]
)
ITEMS = Counter(
    "quarry_items_total",
    "Items through the ingestion pipeline, by outcome",
    ["outcome"],
)
PASSAGES = Counter("quarry_passages_embedded_total", "Passages embedded and written")
BATCH_DURATION = Histogram(
    "quarry_batch_duration_seconds",
    "Time to extract, embed and write one batch",
    buckets=_BATCH,
)
JOB_DURATION = Histogram(
    "quarry_sync_job_duration_seconds",
    "Time one sync task ran (one attempt of a job), by final status",
    ["status"],
    buckets=_JOB,
)
JOBS_FINISHED = Counter(
    "quarry_sync_jobs_total", "Sync task runs by the status they left the job in", ["status"]
)
JOBS_RUNNING = Gauge(
    "quarry_sync_jobs_running",
    "Sync jobs this process runs now",
    multiprocess_mode="livesum",
)

_OUTCOMES = ("added", "modified", "unchanged", "deleted", "truncated")


def record_batch(stats: BatchStats, seconds: float) -> None:
    """One pipeline batch: its items by outcome, its passages and its duration."""
    for outcome in _OUTCOMES:
        count = len(getattr(stats, outcome))
        if count:
            ITEMS.labels(outcome).inc(count)
    if stats.failed:
        ITEMS.labels("failed").inc(len(stats.failed))
    if stats.metadata_only:
        ITEMS.labels("metadata_only").inc(len(stats.metadata_only))
    if stats.passages:
        PASSAGES.inc(stats.passages)
    BATCH_DURATION.observe(seconds)


class ScrapeTimeGauges(Collector):
    """Gauges read when scraped (queue depth, jobs by state): one reader, not one per process."""

    def __init__(self, read: Callable[[], Iterable[GaugeMetricFamily]]) -> None:
        self.read = read

    def collect(self) -> Iterable[Metric]:
        try:
            yield from self.read()
        except Exception:  # a scrape must answer even when a backend does not
            yield GaugeMetricFamily(
                "quarry_metrics_backend_up", "Whether scrape-time gauges could be read", value=0
            )
        else:
            yield GaugeMetricFamily(
                "quarry_metrics_backend_up", "Whether scrape-time gauges could be read", value=1
            )


def multiprocess() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def exposition(extra: Collector | None = None) -> tuple[bytes, str]:
    """The text format of every process's metrics (summed in multiprocess mode), and its type."""
    if multiprocess():
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        from prometheus_client import REGISTRY

        registry = CollectorRegistry()
        registry.register(_Delegate(REGISTRY))
    if extra is not None:
        registry.register(extra)
    return generate_latest(registry), CONTENT_TYPE_LATEST


class _Delegate(Collector):
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterable[Metric]:
        return self.registry.collect()


def process_exited(pid: int) -> None:
    """Drop a dead process's live gauges (multiprocess mode); its counters stay counted."""
    if multiprocess():
        from prometheus_client import multiprocess as mp

        mp.mark_process_dead(pid)  # type: ignore[no-untyped-call]
