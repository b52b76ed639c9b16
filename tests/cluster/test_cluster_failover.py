"""Elasticsearch as a cluster: a node dies during a sync and during a query load.

Runs against a local 3-node cluster that ``make cluster-test`` starts
(``deploy/elasticsearch/es.sh cluster 3``, its URLs in ``QUARRY_CLUSTER_ES_URL``); skipped
without one. Every index gets one replica (``QUARRY_ES_REPLICAS=1``), so losing one node loses
no data: the client retries on the other nodes, Elasticsearch promotes replicas, and within
30 seconds of the kill no query fails, the sync finishes, the index equals the source, and the
node rejoins once restarted.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery
from elasticsearch import Elasticsearch

from acl import Principal
from connectors.models import SyncMode
from search.embed import Embedder
from search.query import QueryRequest, RetrievalMode
from search.runtime import Runtime
from search.settings import Settings
from sync_engine.models import JobStatus, SyncJob
from sync_engine.service import DataSourceService, SyncService
from tests.stack import ROOT, WorkerProcess, ready_runtime, running_worker, wait_until
from tests.sync_support import scripted_spec, sync_settings, text_for, worker_env, write_files
from worker.app import create_app

pytestmark = pytest.mark.cluster

CLUSTER_URL = os.environ.get("QUARRY_CLUSTER_ES_URL", "")
ES_SH = ROOT / "deploy" / "elasticsearch" / "es.sh"
DOCS = 120
CLIENTS = 10
GRACE_S = 30.0
"""After this long past the kill, every query must succeed and be complete."""
LOAD_AFTER_KILL_S = 40.0

if not CLUSTER_URL:
    pytest.skip(
        "needs a local Elasticsearch cluster: run `make cluster-test`", allow_module_level=True
    )


@pytest.fixture(scope="module")
def s(settings: Settings) -> Settings:
    return sync_settings(settings, "cluster").model_copy(
        update={
            "es_url": CLUSTER_URL,
            "es_replicas": 1,
            "es_request_timeout_s": 20.0,
            # A node's death may stall writes for seconds on two busy cores: not a dead worker.
            "sync_heartbeat_timeout_s": 60.0,
            "sync_lock_ttl_s": 30.0,
        }
    )


@pytest.fixture(scope="module")
def ces(s: Settings) -> Iterator[Elasticsearch]:
    client = Elasticsearch(s.es_hosts, request_timeout=60, max_retries=5, retry_on_timeout=True)
    client.cluster.health(wait_for_status="green", wait_for_nodes="3", timeout="120s")
    yield client
    client.indices.delete(
        index=f"{s.index_prefix}-*", ignore_unavailable=True, allow_no_indices=True
    )


@pytest.fixture(scope="module")
def crt(s: Settings, ces: Elasticsearch, embedder: Embedder, redis_client: object) -> Runtime:
    return ready_runtime(s, embedder)


@pytest.fixture
def killed() -> Iterator[list[int]]:
    """Nodes the test killed: started again afterwards, even when the test fails."""
    nodes: list[int] = []
    yield nodes
    for node in nodes:
        subprocess.run(["bash", str(ES_SH), "cluster-node", "start", str(node)], cwd=ROOT)


def es_sh(*args: str) -> None:
    subprocess.run(["bash", str(ES_SH), *args], check=True, cwd=ROOT, timeout=300)


def primary_node(es: Elasticsearch, index: str) -> int:
    """The number of a node that holds a primary shard of ``index`` (``quarry-c2`` gives 2)."""
    shards = es.cat.shards(index=index, format="json", h="prirep,node,state").body
    node = next(sh["node"] for sh in shards if sh["prirep"] == "p" and sh["state"] == "STARTED")
    return int(str(node).removeprefix("quarry-c"))


class QueryLoad:
    """``CLIENTS`` threads querying through the one query path; each outcome with its time."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.stop = threading.Event()
        self.complete_total: int | None = None
        """Once set (the sync is done and refreshed), every BM25 answer must count this many."""
        self.outcomes: list[tuple[float, str]] = []
        self._lock = threading.Lock()
        self.threads = [threading.Thread(target=self._client, args=(i,)) for i in range(CLIENTS)]

    def _client(self, i: int) -> None:
        modes = [RetrievalMode.BM25, RetrievalMode.RERANK]
        n = 0
        while not self.stop.is_set():
            mode = modes[(i + n) % 2]
            # Every document matches lexically; a lost shard would show as a smaller total.
            expected = self.complete_total if mode is RetrievalMode.BM25 else None
            try:
                response = self.rt.engine.search(
                    QueryRequest(query_text="handbook note", page_size=5),
                    Principal.anonymous(),
                    mode=mode,
                )
                if not response.results:
                    outcome = "no results"
                elif expected is not None and response.total != expected:
                    outcome = f"incomplete: {response.total} of {expected}"
                else:
                    outcome = "ok"
            except Exception as exc:
                outcome = f"error: {type(exc).__name__}: {exc}"
            with self._lock:
                self.outcomes.append((time.monotonic(), outcome))
            n += 1

    def __enter__(self) -> QueryLoad:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=60)


def test_a_node_dies_during_a_sync_and_a_query_load(
    s: Settings,
    ces: Elasticsearch,
    crt: Runtime,
    redis_client: object,
    log_dir: Path,
    tmp_path: Path,
    killed: list[int],
) -> None:
    app: Celery = create_app(s)
    env = worker_env(s, QUARRY_ES_REPLICAS="1", QUARRY_ES_REQUEST_TIMEOUT_S="20")
    root = tmp_path / "src"
    names = write_files(root, DOCS)
    sources = DataSourceService(crt)
    sources.create(scripted_spec("clustered", root, delay_s=0.1))
    settings = ces.indices.get_settings(index=s.docs_alias, flat_settings=True).body
    assert all(v["settings"]["index.number_of_replicas"] == "1" for v in settings.values())

    worker: WorkerProcess
    with running_worker(app, s, "cluster", log_dir, **env) as worker:
        sync = SyncService(crt, app)
        with QueryLoad(crt) as load:
            job = sync.start("clustered", SyncMode.FULL)
            wait_until(
                lambda: sync.get(job.id).stats.scanned >= DOCS // 4,
                120,
                message="the sync to be a quarter through",
            )
            victim = primary_node(ces, crt.index.current() or s.docs_alias)
            es_sh("cluster-node", "kill", str(victim))
            killed.append(victim)
            killed_at = time.monotonic()

            def finished() -> SyncJob | None:
                current = sync.get(job.id)
                return None if current.status.active else current

            done = wait_until(
                finished,
                300,
                interval=0.5,
                message=f"the sync to finish\n{worker.log_tail()}",
            )
            assert done.status == JobStatus.SUCCEEDED, (done.error, worker.log_tail())
            crt.es.indices.refresh(index=s.docs_alias)
            load.complete_total = DOCS
            remaining = killed_at + LOAD_AFTER_KILL_S - time.monotonic()
            time.sleep(max(remaining, 5.0))

    late = [o for t, o in load.outcomes if t > killed_at + GRACE_S]
    before = Counter(o.split(":")[0] for t, o in load.outcomes if t <= killed_at and o != "ok")
    grace = Counter(
        o.split(":")[0]
        for t, o in load.outcomes
        if killed_at < t <= killed_at + GRACE_S and o != "ok"
    )
    late_failures = [o for o in late if o != "ok"]
    # Before the kill, "no results" only means the sync has not written anything yet.
    print(
        f"cluster: queries={len(load.outcomes)} after_grace={len(late)} "
        f"failures_before_kill={dict(before)} failures_within_grace={dict(grace)} "
        f"failures_after={len(late_failures)}"
    )
    assert late, "no query ran after the grace period"
    assert not late_failures, late_failures[:5]

    # The index equals the source: every file, and nothing else, with its exact text.
    crt.es.indices.refresh(index=s.docs_alias)
    hits = crt.es.search(
        index=s.docs_alias,
        size=DOCS * 2,
        query={"term": {"data_source_id": "clustered"}},
        source_includes=["doc_id", "title", "body"],
    ).body["hits"]["hits"]
    stored = {h["_source"]["title"]: h["_source"]["body"] for h in hits}
    assert sorted(stored) == sorted(names)
    for i, name in enumerate(names):
        assert stored[name].strip() == text_for(name, i).strip(), name

    # The node comes back and takes its share of the copies again.
    es_sh("cluster-node", "start", str(victim))
    killed.remove(victim)
    health = ces.cluster.health(wait_for_nodes="3", wait_for_status="green", timeout="240s").body
    assert health["number_of_nodes"] == 3 and health["status"] == "green", health
    nodes = {n["name"] for n in ces.cat.nodes(format="json", h="name").body}
    assert f"quarry-c{victim}" in nodes
