"""``quarry verify``: the index compared with the source, drift found by kind, and repaired."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch
from typer.testing import CliRunner

from acl import AccessControlList
from api.cli.main import app as cli_app
from connectors.models import Document, SyncMode
from search.errors import Conflict
from search.runtime import Runtime
from search.settings import Settings
from sync_engine.locks import run_lock
from sync_engine.models import JobStatus
from sync_engine.service import DataSourceService, SyncService
from sync_engine.store import SyncStore
from sync_engine.verify import Verifier
from tests.sync_support import (
    app,
    rt,
    scripted_spec,
    sources,
    sync,
    sync_settings,
    wait_done,
    worker,
    write_files,
)

__all__ = ["app", "rt", "sources", "sync", "worker"]


@pytest.fixture(scope="module")
def s(settings: Settings) -> Settings:
    return sync_settings(settings, "sv")


def test_verify_finds_each_kind_of_drift_and_repair_removes_it(
    rt: Runtime,
    sources: DataSourceService,
    sync: SyncService,
    es: Elasticsearch,
    s: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    names = write_files(tmp_path, 6)
    ds = sources.create(scripted_spec("checked", tmp_path)).id
    assert wait_done(sync, sync.start(ds, SyncMode.FULL).id).status == JobStatus.SUCCEEDED
    verifier = Verifier(rt, SyncStore(rt.es, rt.settings))
    clean = verifier.run(ds)
    assert (clean.status, clean.drift, clean.source_documents) == ("clean", 0, 6)

    # Drift of every kind, made behind the sync engine's back.
    rt.writer.delete([f"{ds}:{names[0]}"])  # missing
    (tmp_path / names[1]).write_text("the source changed and no sync ran")  # stale content
    sidecar = tmp_path / f"{names[2]}.acl.json"
    sidecar.write_text(json.dumps(AccessControlList(allow_groups=["GROUP_hr"]).model_dump()))
    rt.pipeline.write_batch(ds, [Document(id=f"{ds}:ghost.txt", text="not at the source")])
    rt.writer.refresh()

    found = verifier.run(ds)
    assert found.status == "drift" and found.drift == 4
    assert found.missing == [f"{ds}:{names[0]}"]
    assert found.stale_content == [f"{ds}:{names[1]}"]
    assert found.stale_acl == [f"{ds}:{names[2]}"]
    assert found.extra == [f"{ds}:ghost.txt"]

    # Repair waits for no one but never runs beside a sync: the run lock is required.
    held = run_lock(s, ds)
    assert held.acquire()
    with pytest.raises(Conflict):
        verifier.run(ds, repair=True)
    held.release()
    fixed = verifier.run(ds, repair=True)
    assert fixed.status == "repaired" and fixed.repaired == 4
    assert verifier.run(ds).drift == 0
    assert [v.status for v in verifier.history(ds)[:3]] == ["clean", "repaired", "drift"]

    # The CLI: exit 1 on drift, 0 when clean.
    for name, value in {
        "QUARRY_ES_URL": s.es_url,
        "QUARRY_REDIS_URL": s.redis_url,
        "QUARRY_INDEX_PREFIX": s.index_prefix,
        "QUARRY_EXTRA_CONNECTORS": "scripted-fs=tests.sync_support:ScriptedConnector",
    }.items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    ok = runner.invoke(cli_app, ["verify", ds, "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["drift"] == 0
    rt.writer.delete([f"{ds}:{names[3]}"])
    rt.writer.refresh()
    sampled = runner.invoke(cli_app, ["verify", ds, "--sample", "3", "--json"])
    record = json.loads(sampled.output)
    assert (record["compared"], record["source_documents"]) == (3, 6)
    assert sampled.exit_code == (1 if record["missing"] else 0)
    full = runner.invoke(cli_app, ["verify", ds])
    assert full.exit_code == 1 and "missing: 1" in full.output
    listed = runner.invoke(cli_app, ["verify", ds, "--history", "--json"])
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.output)[0]["status"] == "drift"
    assert len(json.loads(listed.output)) == len(verifier.history(ds)) >= 7
    sources.delete(ds)
