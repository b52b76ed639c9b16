"""Helpers that start real Quarry processes (Celery workers) for tests, and the stack they use."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from celery import Celery

from search.embed import Embedder
from search.runtime import Runtime
from search.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def module_suffix(request: pytest.FixtureRequest) -> str:
    """A short name of the requesting test module: ``test_kendra_admin`` gives ``kendra-admin``."""
    name: str = request.module.__name__.rsplit(".", 1)[-1]
    return name.replace("test_", "").replace("_", "-")


def prefixed(settings: Settings, suffix: str) -> Settings:
    """The settings with indices, queue and locks of their own (the prefix plus ``suffix``)."""
    return settings.model_copy(update={"index_prefix": f"{settings.index_prefix}-{suffix}"})


def ready_runtime(settings: Settings, embedder: Embedder) -> Runtime:
    """A runtime whose document index exists."""
    runtime = Runtime(settings, embedder=embedder)
    runtime.index.ensure()
    return runtime


def process_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "QUARRY_ES_URL": settings.es_url,
            "QUARRY_REDIS_URL": settings.redis_url,
            "QUARRY_INDEX_PREFIX": settings.index_prefix,
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if settings.embedding_cache_path is not None:
        env["QUARRY_EMBEDDING_CACHE_PATH"] = str(settings.embedding_cache_path)
    env.update(extra)
    return env


class WorkerProcess:
    """A real ``celery worker`` subprocess consuming one of the test prefix's queues.

    ``role``: ``runner`` consumes sync runs and small tasks, ``batches`` a sync's batch tasks
    (a sync needs both; ``running_worker`` starts one of each).
    """

    def __init__(
        self, settings: Settings, name: str, log_dir: Path, role: str = "runner", **env: str
    ) -> None:
        queue = {"runner": settings.task_queue, "batches": settings.batch_queue}[role]
        if role == "batches":
            env.pop("QUARRY_WORKER_METRICS_PORT", None)  # the runner serves the shared folder
        self.log_path = log_dir / f"worker-{name}.log"
        self._log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "worker.app",
                "worker",
                "--loglevel=INFO",
                "--concurrency=1",
                "--pool=prefork",
                "-Q",
                queue,
                "--hostname",
                f"{name}@%h",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=process_env(
                settings,
                **({"QUARRY_WORKER_METRICS_PORT": ""} if role == "batches" else {}),
                **env,
            ),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self) -> None:
        """SIGKILL the whole process group, as a crash would."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def answering(app: Celery, proc: WorkerProcess, queue: str) -> None:
    """Wait until ``proc`` answers a ping on ``queue`` (else stop it, raising with its log)."""
    try:
        app.send_task("quarry.ping", queue=queue).get(timeout=120)
    except Exception as exc:
        proc.stop()
        raise RuntimeError(
            f"worker {proc.log_path.name} did not answer: {exc}\n{proc.log_tail()}"
        ) from exc


@contextmanager
def batch_workers(
    app: Celery, settings: Settings, name: str, log_dir: Path, count: int = 1, **env: str
) -> Iterator[list[WorkerProcess]]:
    """``count`` batch workers that answered a ping on the batch queue, stopped after."""
    procs: list[WorkerProcess] = []
    try:
        for i in range(count):
            procs.append(WorkerProcess(settings, f"{name}-b{i}", log_dir, "batches", **env))
        for proc in procs:
            answering(app, proc, settings.batch_queue)
        yield procs
    finally:
        for proc in procs:
            proc.stop()


@contextmanager
def running_worker(
    app: Celery, settings: Settings, name: str, log_dir: Path, **env: str
) -> Iterator[WorkerProcess]:
    """A runner worker and a batch worker that answered ``app``'s ping, stopped after.

    Yields the runner (the one a crash test kills); the batch worker writes the syncs' batches.
    """
    proc = WorkerProcess(settings, name, log_dir, **env)
    try:
        answering(app, proc, settings.task_queue)
        with batch_workers(app, settings, name, log_dir, **env):
            yield proc
    finally:
        proc.stop()


def wait_until(predicate, timeout: float, interval: float = 0.2, message: str = "condition"):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")
