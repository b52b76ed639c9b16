"""The filesystem connector: fail-closed ACLs, patterns, incremental passes, checkpoints."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from acl import EVERYONE, AccessControlList, Principal
from connectors.base import CrawlLimits
from connectors.filesystem import FilesystemConfig, FilesystemConnector
from connectors.models import Checkpoint, Deletion, Document, Failure, SyncMode
from connectors.registry import build_connector

LIMITS = CrawlLimits()


def _write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _connector(root: Path, **options: object) -> FilesystemConnector:
    connector = build_connector("filesystem", {"root": str(root), **options}, "fs")
    assert isinstance(connector, FilesystemConnector)
    return connector


def _run(connector: FilesystemConnector, mode: SyncMode, checkpoint: Checkpoint | None = None):
    items = list(connector.crawl(mode, checkpoint, LIMITS))
    assert isinstance(items[-1], Checkpoint)
    return items, items[-1]


def _docs(items) -> dict[str, Document]:
    return {i.id: i for i in items if isinstance(i, Document)}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    _write(tmp_path, "readme.txt", "hello")
    _write(tmp_path, "specs/api.md", "# API")
    _write(tmp_path, "specs/old/v1.md", "old")
    _write(tmp_path, "private/salaries.csv", "a,b")
    (tmp_path / "private/salaries.csv.acl.json").write_text(
        json.dumps({"allow_users": ["alice"], "deny_groups": ["GROUP_interns"]})
    )
    return tmp_path


def test_full_crawl_fails_closed_without_default_acl(tree: Path) -> None:
    items, last = _run(_connector(tree), SyncMode.FULL)
    docs = _docs(items)
    assert set(docs) == {
        "fs:readme.txt",
        "fs:specs/api.md",
        "fs:specs/old/v1.md",
        "fs:private/salaries.csv",
    }
    assert docs["fs:readme.txt"].acl is None
    salaries = docs["fs:private/salaries.csv"]
    assert salaries.acl is not None
    assert salaries.acl.permits(Principal(user="alice"))
    assert not salaries.acl.permits(Principal(user="alice", groups=["GROUP_interns"]))
    assert salaries.content == b"a,b" and salaries.content_length == 3
    assert salaries.path == "private/salaries.csv"
    # The directory a person finds it in: none at the root.
    assert (salaries.folder, docs["fs:specs/old/v1.md"].folder) == ("private", "specs/old")
    assert docs["fs:readme.txt"].folder is None
    assert last.complete


def test_default_acl_and_patterns(tree: Path) -> None:
    connector = _connector(
        tree,
        default_acl={"allow_groups": [EVERYONE]},
        inclusion_patterns=[r"\.md$", r"\.txt$"],
        exclusion_patterns=["^specs/old/"],
    )
    docs = _docs(_run(connector, SyncMode.FULL)[0])
    assert set(docs) == {"fs:readme.txt", "fs:specs/api.md"}
    assert docs["fs:readme.txt"].acl == AccessControlList.public()


def test_content_is_cut_at_the_limit_with_true_length(tmp_path: Path) -> None:
    _write(tmp_path, "big.txt", "x" * 1000)
    items = list(_connector(tmp_path).crawl(SyncMode.FULL, None, CrawlLimits(max_content_bytes=10)))
    doc = _docs(items)["fs:big.txt"]
    assert doc.content == b"x" * 10 and doc.content_length == 1000


def test_incremental_yields_changes_and_deletions_only(tree: Path) -> None:
    connector = _connector(tree)
    _, first = _run(connector, SyncMode.FULL)
    _write(tree, "new.txt", "new")
    edited = _write(tree, "specs/api.md", "# API v2")
    os.utime(edited, ns=(10**18, 10**18))
    (tree / "specs/old/v1.md").unlink()
    sidecar = tree / "private/salaries.csv.acl.json"
    sidecar.write_text(json.dumps({"allow_users": ["bob"]}))
    os.utime(sidecar, ns=(10**18, 10**18))
    items, second = _run(connector, SyncMode.INCREMENTAL, first)
    assert set(_docs(items)) == {"fs:new.txt", "fs:specs/api.md", "fs:private/salaries.csv"}
    assert [i.id for i in items if isinstance(i, Deletion)] == ["fs:specs/old/v1.md"]
    assert not second.complete  # an incremental pass does not enumerate every document
    items, _ = _run(connector, SyncMode.INCREMENTAL, second)
    assert len(items) == 1  # nothing changed: just the checkpoint


def test_broken_sidecar_hides_the_file_and_reports_it(tree: Path) -> None:
    (tree / "private/salaries.csv.acl.json").write_text("{not json")
    items, _ = _run(_connector(tree), SyncMode.FULL)
    assert [i.id for i in items if isinstance(i, Failure)] == ["fs:private/salaries.csv"]
    assert _docs(items)["fs:private/salaries.csv"].acl is None


def test_resuming_from_a_mid_pass_checkpoint_loses_nothing(tree: Path) -> None:
    connector = _connector(tree, checkpoint_every=1)
    full = list(connector.crawl(SyncMode.FULL, None, LIMITS))
    mids = [i for i in full if isinstance(i, Checkpoint) and not i.complete]
    assert mids
    # stop right after the second checkpoint, as a crashed worker would
    cut = full.index(mids[1])
    before = _docs(full[: cut + 1])
    resumed = list(connector.crawl(SyncMode.FULL, mids[1], LIMITS))
    after = _docs(resumed)
    assert set(before) | set(after) == set(_docs(full))
    assert not set(before) & set(after)
    assert isinstance(resumed[-1], Checkpoint) and resumed[-1].complete


def test_forced_full_ignores_the_checkpoint(tree: Path) -> None:
    connector = _connector(tree)
    _, first = _run(connector, SyncMode.FULL)
    items, last = _run(connector, SyncMode.FORCED_FULL, first)
    assert len(_docs(items)) == 4 and last.complete


def test_config_change_reindexes_everything(tree: Path) -> None:
    _, first = _run(_connector(tree), SyncMode.FULL)
    items, last = _run(
        _connector(tree, exclusion_patterns=["^private/"]), SyncMode.INCREMENTAL, first
    )
    assert len(_docs(items)) == 3
    assert [i.id for i in items if isinstance(i, Deletion)] == ["fs:private/salaries.csv"]
    assert last.complete


def test_check_reports_a_missing_root(tmp_path: Path) -> None:
    ok = _connector(tmp_path).check()
    assert ok.ok
    missing = FilesystemConnector(FilesystemConfig(root=tmp_path / "nope"), "fs").check()
    assert not missing.ok and "nope" in missing.message


def test_resuming_a_pass_that_could_not_list_a_folder_deletes_nothing(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    connector = _connector(tree, checkpoint_every=1)
    _, done = _run(connector, SyncMode.FULL)
    real_walk = os.walk
    hidden = str(tree / "private")

    def unreadable_private(top, onerror=None, **kw):  # type: ignore[no-untyped-def]
        for folder, dirs, files in real_walk(top, onerror=onerror, **kw):
            if folder == hidden:
                if onerror is not None:
                    onerror(OSError(13, "Permission denied", hidden))
                dirs[:] = []
                continue
            yield folder, dirs, files

    monkeypatch.setattr(os, "walk", unreadable_private)
    first = list(connector.crawl(SyncMode.FULL, done, LIMITS))
    assert any(isinstance(i, Failure) for i in first)
    # the worker dies after a checkpoint taken past "private/" in sort order
    mid = next(
        i for i in first if isinstance(i, Checkpoint) and i.state["pass"]["cursor"] == "readme.txt"
    )
    monkeypatch.setattr(os, "walk", real_walk)
    resumed = list(connector.crawl(SyncMode.FULL, mid, LIMITS))
    assert not [i for i in resumed if isinstance(i, Deletion)]
    assert isinstance(resumed[-1], Checkpoint) and not resumed[-1].complete
    assert "private/salaries.csv" in resumed[-1].state["files"]
