"""One sync over one batch worker against the same sync over two: how fan-out scales.

    python bench/scale.py [--docs 240] [--words 600]

Real Elasticsearch and Redis (``QUARRY_ES_URL``, ``QUARRY_REDIS_URL``) and real Celery workers
started here: one runner worker, then batch workers of one process and one torch thread each
(``OMP_NUM_THREADS=1``, ``QUARRY_EMBEDDING_THREADS=1``). The same corpus size and shape
runs twice in the same invocation, with one batch worker and then with two; each run has
words of its own seed and no embedding cache, so every passage is really encoded in both.
Workers load the model before the clock starts (``QUARRY_WORKER_WARM_UP``). The embedding
backend is the default for a new index (ONNX int8) unless ``QUARRY_EMBEDDING_BACKEND`` names
another (``QUARRY_EMBEDDING_BACKEND=torch python bench/scale.py``). The clock runs
from the sync's start to its job's end: enumeration, batches, checkpoints, the deletion sweep.

    scale: workers=2 items_per_s=X single_items_per_s=Y speedup=X/Y
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from acl import AccessControlList
from bench.textgen import document
from connectors.models import SyncMode
from search.runtime import Runtime
from search.settings import Settings
from sync_engine.jobs import SyncService
from sync_engine.locks import redis_client
from sync_engine.models import DataSourceSpec, JobStatus
from sync_engine.service import DataSourceService
from worker.app import create_app

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "qbench-scale"
BATCH_DOCS = 8


def _env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "QUARRY_EMBEDDING_CACHE_PATH"}
    env.update(
        {
            "QUARRY_ES_URL": settings.es_url,
            "QUARRY_REDIS_URL": settings.redis_url,
            "QUARRY_INDEX_PREFIX": settings.index_prefix,
            "QUARRY_BULK_BATCH_DOCS": str(BATCH_DOCS),
            "QUARRY_EMBEDDING_THREADS": "1",
            "QUARRY_WORKER_WARM_UP": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def _worker(settings: Settings, queue: str, name: str, log_dir: Path) -> subprocess.Popen[bytes]:
    log = (log_dir / f"{name}.log").open("ab")
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "worker.app",
            "worker",
            "-Q",
            queue,
            "--concurrency=1",
            "--loglevel=INFO",
            "--hostname",
            f"{name}@%h",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=_env(settings),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def _answered(settings: Settings, queue: str, processes: int) -> None:
    """Until ``processes`` distinct worker processes answered a ping on ``queue`` (warm)."""
    app = create_app(settings)
    pids: set[int] = set()
    deadline = time.monotonic() + 600
    while len(pids) < processes:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {len(pids)} of {processes} workers answered on {queue}")
        pending = [app.send_task("quarry.ping", queue=queue) for _ in range(processes * 2)]
        pids |= {r.get(timeout=600)["pid"] for r in pending}


def _clean(settings: Settings) -> None:
    """The bench's own indices and queues only (its prefix), from an earlier or this run."""
    rt = Runtime(settings)
    rt.es.indices.delete(index=f"{PREFIX}-*", ignore_unavailable=True, allow_no_indices=True)
    redis_client(settings).delete(settings.task_queue, settings.batch_queue)


def _corpus(root: Path, docs: int, words: int, seed: int) -> None:
    rng = random.Random(seed)
    root.mkdir(parents=True)
    for i in range(docs):
        (root / f"note-{i:04d}.txt").write_text(document(rng, words))


def _run(settings: Settings, workers: int, root: Path, log_dir: Path) -> tuple[float, int]:
    """Seconds for one full sync of ``root`` with ``workers`` batch workers; passages embedded."""
    rt = Runtime(settings)
    name = f"scale-{workers}"
    DataSourceService(rt).create(
        DataSourceSpec(
            name=name,
            type="filesystem",
            config={"root": str(root), "default_acl": AccessControlList.public().model_dump()},
        )
    )
    procs = [_worker(settings, settings.task_queue, f"{name}-runner", log_dir)]
    procs += [
        _worker(settings, settings.batch_queue, f"{name}-b{i}", log_dir) for i in range(workers)
    ]
    try:
        _answered(settings, settings.task_queue, 1)
        _answered(settings, settings.batch_queue, workers)
        sync = SyncService(rt, create_app(settings))
        started = time.perf_counter()
        job = sync.start(name, SyncMode.FULL)
        while (job := sync.get(job.id)).status.active:
            time.sleep(0.1)
        elapsed = time.perf_counter() - started
    finally:
        _stop(procs)
    if job.status != JobStatus.SUCCEEDED or job.stats.added != len(list(root.iterdir())):
        raise SystemExit(f"sync {name} ended {job.status.value}: {job.error} {job.stats}")
    busy = [_busy(log_dir / f"{name}-b{i}.log") for i in range(workers)]
    print(
        f"# workers={workers} elapsed_s={elapsed:.1f} batches={[b for b, _ in busy]} "
        f"busy_s={[round(t, 1) for _, t in busy]}",
        flush=True,
    )
    return elapsed, job.stats.passages


def _busy(log: Path) -> tuple[int, float]:
    """(batches, seconds spent in them) from a batch worker's Celery log."""
    found = re.findall(r"Task quarry\.sync_batch\[[^]]+\] succeeded in ([0-9.]+)s", log.read_text())
    return len(found), sum(float(t) for t in found)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--docs", type=int, default=240)
    parser.add_argument("--words", type=int, default=600)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args()
    settings = Settings(index_prefix=PREFIX, embedding_cache_path=None)
    _clean(settings)
    runtime = Runtime(settings)
    runtime.index.ensure()
    with tempfile.TemporaryDirectory(prefix="quarry-scale-") as tmp:
        base = Path(tmp)
        log_dir = base / "logs"
        log_dir.mkdir()
        _corpus(base / "single", args.docs, args.words, args.seed)
        _corpus(base / "double", args.docs, args.words, args.seed + 1)
        single_s, single_passages = _run(settings, 1, base / "single", log_dir)
        double_s, double_passages = _run(settings, 2, base / "double", log_dir)
    _clean(settings)
    single = args.docs / single_s
    double = args.docs / double_s
    load = os.getloadavg()
    print(
        f"# backend={runtime.backend} docs={args.docs} passages={single_passages}/{double_passages} "
        f"single_s={single_s:.1f} double_s={double_s:.1f} cpus={os.cpu_count()} "
        f"loadavg={load[0]:.2f},{load[1]:.2f},{load[2]:.2f}"
    )
    print(
        f"scale: workers=2 items_per_s={double:.2f} single_items_per_s={single:.2f} "
        f"speedup={double / single:.2f}"
    )


if __name__ == "__main__":
    main()
