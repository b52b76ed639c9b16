"""The worker's Prometheus face: an HTTP endpoint in Celery's main process.

Celery's prefork children do the work and record into ``PROMETHEUS_MULTIPROC_DIR``; the main
process serves the sum (``QUARRY_WORKER_METRICS_PORT``) plus two gauges read at scrape time:
the depth of the run and batch queues in Redis and the sync jobs by state in Elasticsearch.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from typing import Any

import redis
from elasticsearch import Elasticsearch
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from search import metrics
from search.es import make_client
from search.settings import Settings

log = logging.getLogger(__name__)

STATES = ("queued", "running")


class WorkerGauges:
    """Reads queue depth and jobs by state once per scrape."""

    def __init__(self, settings: Settings, queues: Sequence[str]) -> None:
        self.settings = settings
        self.queues = list(queues)
        self._redis: redis.Redis | None = None
        self._es: Elasticsearch | None = None

    def read(self) -> Iterable[GaugeMetricFamily]:
        if self._redis is None:
            self._redis = redis.Redis.from_url(self.settings.redis_url, socket_timeout=2)
        depth = GaugeMetricFamily(
            "quarry_queue_depth", "Tasks waiting in the worker queue", labels=["queue"]
        )
        for queue in self.queues:
            waiting: Any = self._redis.llen(queue)  # a sync client: an int
            depth.add_metric([queue], float(waiting))
        yield depth
        if self._es is None:
            self._es = make_client(self.settings)
        jobs = GaugeMetricFamily("quarry_sync_jobs", "Sync jobs by state", labels=["status"])
        index = self.settings.system_index("sync-jobs")
        counts = {state: 0 for state in STATES}
        if self._es.indices.exists(index=index):
            found = self._es.search(
                index=index,
                size=0,
                query={"terms": {"status": list(STATES)}},
                aggs={"by": {"terms": {"field": "status", "size": len(STATES)}}},
            ).body
            for bucket in found["aggregations"]["by"]["buckets"]:
                counts[bucket["key"]] = bucket["doc_count"]
        for state, count in counts.items():
            jobs.add_metric([state], float(count))
        yield jobs


def serve(settings: Settings, queues: Sequence[str]) -> int | None:
    """Start the metrics endpoint when ``QUARRY_WORKER_METRICS_PORT`` is set; its port."""
    port = os.environ.get("QUARRY_WORKER_METRICS_PORT")
    if not port:
        return None
    if not metrics.multiprocess():
        raise RuntimeError(
            "QUARRY_WORKER_METRICS_PORT needs PROMETHEUS_MULTIPROC_DIR (an empty folder the "
            "worker's processes share): Celery's child processes do the work"
        )
    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    registry.register(metrics.ScrapeTimeGauges(WorkerGauges(settings, queues).read))
    addr = os.environ.get("QUARRY_WORKER_METRICS_ADDR", "0.0.0.0")
    start_http_server(int(port), addr=addr, registry=registry)
    log.info("worker metrics on %s:%s/metrics", addr, port)
    return int(port)
