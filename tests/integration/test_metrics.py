"""Prometheus metrics: the API's ``/metrics`` and a real worker's endpoint, scraped as Prometheus would.

The worker runs as Celery does in production (prefork: a child process does the work) with
``PROMETHEUS_MULTIPROC_DIR``, so the scrape of the main process proves that the children's
values are added up across processes.
"""

from __future__ import annotations

import socket
import urllib.request
from pathlib import Path

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from connectors.models import SyncMode
from search.embed import Embedder
from search.runtime import Runtime
from search.settings import Settings
from sync_engine.models import DataSourceSpec, JobStatus
from sync_engine.service import DataSourceService, SyncService
from tests.corpus import documents
from tests.integration.test_api_support import mint
from tests.stack import prefixed, ready_runtime, running_worker, wait_until
from tests.sync_support import fs_config, wait_done, write_files
from worker.app import create_app

pytest_plugins = ["tests.integration.test_api_support"]  # the API fixtures


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """(sample name, labels) → value of a Prometheus text exposition."""
    out: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def value(
    found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def test_api_metrics_count_requests_queries_and_token_rejections(
    api_client: TestClient, api_corpus: list[str]
) -> None:
    before = samples(api_client.get("/metrics").text)
    ok = api_client.post("/v1/query", json={"query_text": "vacation policy"})
    assert ok.status_code == 200
    expired = {"token": mint("erin", exp_in=-60)}
    refused = api_client.post("/v1/query", json={"query_text": "vacation", "user_context": expired})
    assert refused.status_code == 401
    assert api_client.get("/v1/datasources/nope", headers={}).status_code in (401, 503)

    scrape = api_client.get("/metrics")
    assert scrape.status_code == 200
    assert scrape.headers["content-type"].startswith("text/plain")
    after = samples(scrape.text)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    route = {"method": "POST", "route": "/v1/query"}
    assert delta("quarry_http_requests_total", **route, status="200") == 1
    assert delta("quarry_http_requests_total", **route, status="401") == 1
    assert delta("quarry_http_request_duration_seconds_count", **route) == 2
    # Route templates, never raw paths: the id does not become a label value.
    assert not any("nope" in dict(labels).get("route", "") for _, labels in after)
    assert (
        delta(
            "quarry_http_requests_total",
            method="GET",
            route="/v1/datasources/{data_source_id}",
            status="401",
        )
        == 1
    )
    assert delta("quarry_query_duration_seconds_count", mode="rerank") == 1
    assert delta("quarry_token_rejections_total", reason="ExpiredSignatureError") == 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_worker_metrics_add_up_child_processes(
    settings: Settings,
    embedder: Embedder,
    redis_client: object,
    log_dir: Path,
    tmp_path: Path,
) -> None:
    s = prefixed(settings, "metrics")
    rt: Runtime = ready_runtime(s, embedder)
    app = create_app(s)
    port = _free_port()
    multiproc = tmp_path / "prom"
    multiproc.mkdir()
    env = {
        "PROMETHEUS_MULTIPROC_DIR": str(multiproc),
        "QUARRY_WORKER_METRICS_PORT": str(port),
        "QUARRY_WORKER_METRICS_ADDR": "127.0.0.1",
    }
    root = tmp_path / "src"
    names = write_files(root, 3)
    sources = DataSourceService(rt)
    sources.create(DataSourceSpec(name="metered", type="filesystem", config=fs_config(root)))
    with running_worker(app, s, "metrics", log_dir, **env):
        docs = [d.model_dump(mode="json") for d in documents()[:2]]
        result = app.send_task("quarry.index_documents", args=["metrics-direct", docs]).get(
            timeout=120
        )
        assert len(result["added"]) == 2
        sync = SyncService(rt, app)
        job = wait_done(sync, sync.start("metered", SyncMode.FULL).id)
        assert job.status == JobStatus.SUCCEEDED, job.error

        def scrape() -> dict[tuple[str, frozenset[tuple[str, str]]], float] | None:
            url = f"http://127.0.0.1:{port}/metrics"
            with urllib.request.urlopen(url, timeout=10) as resp:
                found = samples(resp.read().decode())
            # The job is marked done just before its task returns and records it.
            done = value(found, "quarry_sync_jobs_total", status="succeeded")
            return found if done else None

        found = wait_until(scrape, 60, interval=0.5, message="the finished job's metrics")

    assert value(found, "quarry_items_total", outcome="added") == 2 + len(names)
    assert value(found, "quarry_passages_embedded_total") >= 2 + len(names)
    assert value(found, "quarry_batch_duration_seconds_count") >= 2
    assert value(found, "quarry_sync_jobs_total", status="succeeded") == 1
    assert value(found, "quarry_sync_job_duration_seconds_count", status="succeeded") == 1
    assert value(found, "quarry_sync_jobs_running") == 0
    assert value(found, "quarry_queue_depth", queue=f"{s.index_prefix}-tasks") == 0
    assert value(found, "quarry_sync_jobs", status="running") == 0
    assert value(found, "quarry_metrics_backend_up") == 1
