"""Sync jobs end to end: real Elasticsearch, Redis and a real Celery worker process."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from connectors.models import SyncMode
from search.errors import BadRequest, Conflict, NotFound
from search.runtime import Runtime
from search.settings import Settings
from sync_engine.datasources import InvalidConfig
from sync_engine.models import DataSourceSpec, JobStatus
from sync_engine.service import DataSourceService, SyncService
from tests.sync_support import (
    app,
    indexed,
    rt,
    scripted_spec,
    sources,
    sync,
    sync_settings,
    text_for,
    wait_done,
    wait_progress,
    worker,
    write_files,
)

# The module's sync stack: fixtures of tests.sync_support, named here for pytest to use.
__all__ = ["app", "rt", "sources", "sync", "worker"]


@pytest.fixture(scope="module")
def s(settings: Settings) -> Settings:
    return sync_settings(settings, "sj")


def _source(sources: DataSourceService, name: str, root: Path, **script: object) -> str:
    sources.create(scripted_spec(name, root, **script))
    return name


def test_data_source_crud_and_validation(sources: DataSourceService, tmp_path: Path) -> None:
    with pytest.raises(InvalidConfig) as bad:
        sources.create(
            DataSourceSpec(
                name="bad", type="filesystem", config={"root": str(tmp_path), "checkpoint_every": 0}
            )
        )
    assert "checkpoint_every" in bad.value.message
    assert bad.value.errors[0]["loc"] == "checkpoint_every"
    with pytest.raises(BadRequest) as unknown:
        sources.create(DataSourceSpec(name="bad", type="nope", config={}))
    assert "filesystem" in unknown.value.message  # lists the installed types
    created = sources.create(
        DataSourceSpec(name="crud", type="filesystem", config={"root": str(tmp_path)})
    )
    assert created.id == "crud"
    with pytest.raises(Conflict):
        sources.create(DataSourceSpec(name="crud", type="filesystem", config={"root": "/x"}))
    assert "crud" in [d.id for d in sources.list()]
    updated = sources.update(
        "crud",
        DataSourceSpec(
            name="crud", type="filesystem", config={"root": str(tmp_path)}, schedule="0 * * * *"
        ),
    )
    assert updated.schedule == "0 * * * *" and updated.created_at == created.created_at
    assert sources.check("crud").ok
    sources.update(
        "crud",
        DataSourceSpec(name="crud", type="filesystem", config={"root": str(tmp_path / "missing")}),
    )
    assert not sources.check("crud").ok
    assert sources.delete("crud") == 0
    with pytest.raises(NotFound):
        sources.get("crud")


def test_full_then_incremental_sync_records_history(
    sources: DataSourceService, sync: SyncService, es: Elasticsearch, s: Settings, tmp_path: Path
) -> None:
    root = tmp_path / "src"
    names = write_files(root, 10)
    ds = _source(sources, "handbook", root)
    job = sync.start(ds, SyncMode.INCREMENTAL)  # never synced: runs as a full sync
    assert job.status == JobStatus.QUEUED and job.mode == SyncMode.FULL
    done = wait_done(sync, job.id)
    assert done.status == JobStatus.SUCCEEDED, done.error
    assert done.stats.scanned == 10 and done.stats.added == 10 and done.stats.failed == 0
    assert done.attempts == 1 and done.worker and done.worker.startswith("sync-jobs@")
    assert done.duration_s is not None and done.items_per_s is not None
    docs = indexed(es, s, ds)
    assert sorted(docs) == sorted(f"{ds}:{n}" for n in names)
    assert {d["sync_job"] for d in docs.values()} == {job.id}
    assert docs[f"{ds}:{names[3]}"]["body"] == text_for(names[3], 3)

    (root / names[0]).write_text("rewritten: the cafeteria opens at eight")
    (root / names[1]).unlink()
    (root / "new.txt").write_text("a brand new page about parking permits")
    inc = wait_done(sync, sync.start(ds, SyncMode.INCREMENTAL).id)
    assert inc.status == JobStatus.SUCCEEDED and inc.mode == SyncMode.INCREMENTAL
    assert (inc.stats.added, inc.stats.modified, inc.stats.deleted) == (1, 1, 1)
    assert inc.deleted_ids == [f"{ds}:{names[1]}"]
    docs = indexed(es, s, ds)
    assert len(docs) == 10 and f"{ds}:{names[1]}" not in docs
    assert docs[f"{ds}:{names[0]}"]["body"] == "rewritten: the cafeteria opens at eight"

    history = sync.list(ds, limit=10)
    assert [j.id for j in history] == [inc.id, job.id]
    assert history[0].checkpoint is None  # listings leave checkpoints out
    assert sync.active(ds) is None


def test_full_sync_deletes_what_the_source_no_longer_has(
    rt: Runtime,
    sources: DataSourceService,
    sync: SyncService,
    es: Elasticsearch,
    s: Settings,
    tmp_path: Path,
) -> None:
    names = write_files(tmp_path, 6)
    ds = _source(sources, "purge", tmp_path)
    assert wait_done(sync, sync.start(ds, SyncMode.FULL).id).status == JobStatus.SUCCEEDED
    # A document of the source that an older job wrote and no longer exists at the source.
    rt.writer.upsert(
        [
            {
                "doc_id": f"{ds}:stray",
                "data_source_id": ds,
                "title": "stray",
                "body": "left over",
                "sync_job": "some-old-job",
            }
        ]
    )
    (tmp_path / names[2]).unlink()
    (tmp_path / names[4]).unlink()
    # forced-full ignores the checkpoint, so the connector reports no deletions itself:
    # the engine removes every document of the source the complete enumeration did not see.
    job = wait_done(sync, sync.start(ds, SyncMode.FORCED_FULL).id)
    assert job.status == JobStatus.SUCCEEDED
    expected = {f"{ds}:{names[2]}", f"{ds}:{names[4]}", f"{ds}:stray"}
    assert job.stats.deleted == 3 and set(job.deleted_ids) == expected
    assert sorted(indexed(es, s, ds)) == sorted(
        f"{ds}:{n}" for n in names if n not in (names[2], names[4])
    )
    removed = sources.delete(ds)
    assert removed == 4 and indexed(es, s, ds) == {}
    with pytest.raises(NotFound):
        sync.list(ds)


def test_concurrent_starts_are_refused(
    sources: DataSourceService, sync: SyncService, tmp_path: Path
) -> None:
    write_files(tmp_path, 8)
    ds = _source(sources, "busy", tmp_path, delay_s=0.25)
    barrier = threading.Barrier(6)
    started: list[str] = []
    refused: list[str] = []

    def start() -> None:
        barrier.wait()
        try:
            started.append(sync.start(ds, SyncMode.FULL).id)
        except Conflict as exc:
            refused.append(exc.message)

    threads = [threading.Thread(target=start) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(started) == 1 and len(refused) == 5
    active = sync.active(ds)
    assert active is not None and active.id == started[0]
    with pytest.raises(Conflict):
        sources.delete(ds)
    with pytest.raises(Conflict):  # its config cannot change under a running job
        sources.update(ds, scripted_spec(ds, tmp_path))
    with pytest.raises(Conflict):
        sync.start(ds, SyncMode.INCREMENTAL)
    assert wait_done(sync, started[0]).status == JobStatus.SUCCEEDED
    assert [j.id for j in sync.list(ds)] == started
    assert sync.start(ds, SyncMode.INCREMENTAL).id not in started  # free again
    wait_done(sync, sync.list(ds, limit=1)[0].id)


def test_stop_ends_at_an_item_boundary_and_keeps_the_checkpoint(
    sources: DataSourceService, sync: SyncService, es: Elasticsearch, s: Settings, tmp_path: Path
) -> None:
    names = write_files(tmp_path, 30)
    ds = _source(sources, "stoppable", tmp_path, delay_s=0.15)
    job = sync.start(ds, SyncMode.FULL)
    wait_progress(sync, job.id, 8)
    asked = sync.stop(job.id)
    assert asked.stop_requested
    stopped = wait_done(sync, job.id, timeout=30)
    assert stopped.status == JobStatus.STOPPED
    assert stopped.checkpoint is not None and stopped.checkpoint["pass"]["cursor"]
    assert 8 <= stopped.stats.scanned < 30 and stopped.stats.deleted == 0
    assert 0 < len(indexed(es, s, ds)) < len(names)
    with pytest.raises(Conflict):
        sync.stop(job.id)


def test_connector_failure_fails_the_job_and_leaves_the_index_intact(
    sources: DataSourceService, sync: SyncService, es: Elasticsearch, s: Settings, tmp_path: Path
) -> None:
    names = write_files(tmp_path, 6)
    ds = _source(sources, "flaky", tmp_path, fail_items=[names[1]])
    ok = wait_done(sync, sync.start(ds, SyncMode.FULL).id)
    assert ok.status == JobStatus.SUCCEEDED  # a per-item failure does not fail the job
    assert ok.stats.failed == 1 and ok.stats.added == 5
    assert ok.errors[0].id == f"{ds}:{names[1]}" and "simulated read error" in ok.errors[0].reason
    before = indexed(es, s, ds)
    (tmp_path / names[5]).unlink()
    sources.update(ds, scripted_spec(ds, tmp_path, fail_after=2))
    failed = wait_done(sync, sync.start(ds, SyncMode.FULL).id)
    assert failed.status == JobStatus.FAILED
    assert failed.error and "simulated outage" in failed.error
    assert failed.stats.deleted == 0 and failed.deleted_ids == []
    assert sorted(indexed(es, s, ds)) == sorted(before)  # nothing deleted, nothing lost


def test_watchdog_fails_a_job_that_makes_no_progress(
    sources: DataSourceService, sync: SyncService, s: Settings, tmp_path: Path
) -> None:
    write_files(tmp_path, 6)
    ds = _source(sources, "stuck", tmp_path, hang_after=5, hang_s=20, checkpoint_every=2)
    job = wait_done(sync, sync.start(ds, SyncMode.FULL).id, timeout=60)
    assert job.status == JobStatus.FAILED
    assert job.error and job.error.startswith(f"no progress for {s.sync_heartbeat_timeout_s:g} s")
    assert job.checkpoint is not None and job.checkpoint["pass"]["cursor"] == "doc-003.txt"
    assert job.stats.added >= 4
    # The abandoned crawl never writes again: a new job of the source can start and run.
    sources.update(ds, scripted_spec(ds, tmp_path))
    assert wait_done(sync, sync.start(ds, SyncMode.FULL).id).status == JobStatus.SUCCEEDED


def test_a_document_that_fails_in_a_full_sync_is_not_deleted(
    sources: DataSourceService, sync: SyncService, es: Elasticsearch, s: Settings, tmp_path: Path
) -> None:
    names = write_files(tmp_path, 5)
    ds = _source(sources, "transient", tmp_path)
    assert wait_done(sync, sync.start(ds, SyncMode.FULL).id).status == JobStatus.SUCCEEDED
    # The file still exists but cannot be read this time: a failure, not a deletion.
    sources.update(ds, scripted_spec(ds, tmp_path, fail_items=[names[1]]))
    job = wait_done(sync, sync.start(ds, SyncMode.FORCED_FULL).id)
    assert job.status == JobStatus.SUCCEEDED
    assert job.stats.failed == 1 and job.stats.deleted == 0 and job.deleted_ids == []
    assert sorted(indexed(es, s, ds)) == sorted(f"{ds}:{n}" for n in names)
