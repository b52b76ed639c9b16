"""The Alfresco walk at concurrency 8 (folders listed ahead, downloads overlapping listings)
against the simulator over real HTTP: the same items, ACLs, order and checkpoints as one
request at a time; a failed listing still keeps every deletion back; an interrupted pass
resumes without losing anything."""

from __future__ import annotations

from typing import Any

from connectors.base import CrawlLimits
from connectors.models import Checkpoint, CrawlItem, Document, SyncMode
from devtools.alfresco_sim import Repository, generate_repository

from .alfresco_fixtures import Index, assert_acls_match_oracle, connector, crawl, simulator

CHILDREN = "GET /nodes/{nodeId}/children"


def nested_repository() -> tuple[Repository, dict[str, str]]:
    """The generated sites plus a tree four folders deep and three wide under engineering's
    document library, files at every level, one folder of 30 more files, one subtree with its own
    permissions."""
    repo = generate_repository(seed=11, sites=2, files_per_site=24)
    library = repo.landmarks["engineering.documentLibrary"]
    folders: dict[str, str] = {}

    def grow(parent: str, path: str, depth: int) -> None:
        for index in range(3):
            name = f"{path}/level{depth}-{index}".lstrip("/")
            folder = repo.add_folder(parent, f"level{depth}-{index}")
            folders[name] = folder
            for file in range(depth % 3 + 1):
                repo.add_file(folder, f"note {depth}-{index}-{file}.txt", f"{name} file {file}")
            if depth < 4:
                grow(folder, name, depth + 1)

    grow(library, "", 1)
    for file in range(30):  # a folder of many pages, read ahead in parallel
        repo.add_file(folders["level1-2"], f"bulk {file:02}.txt", f"bulk file {file}")
    repo.set_permissions(
        folders["level1-1/level2-0"],
        locally_set=[("GROUP_finance", "Consumer"), ("bob", "Consumer", "DENIED")],
        inheritance_enabled=False,
    )
    return repo, folders


def shape(items: list[CrawlItem]) -> list[tuple[str, Any]]:
    """Items in order; checkpoints by their state without the pass's clock readings."""
    shaped: list[tuple[str, Any]] = []
    for item in items:
        if isinstance(item, Checkpoint):
            state = dict(item.state, last_sync=None)
            if state.get("running"):
                state["running"] = dict(state["running"], started=None)
            shaped.append(("checkpoint", (item.complete, state)))
        else:
            shaped.append((type(item).__name__, item))
    return shaped


def test_concurrency_8_yields_what_concurrency_1_yields(monkeypatch) -> None:
    repo, folders = nested_repository()
    with simulator(repo) as sim:
        sim.faults.set_latency(2)  # requests overlap, and finish in another order than sent
        options = {"crawl_comments": True, "page_size": 4, "checkpoint_every": 7}
        one = crawl(connector(sim.base_url, monkeypatch, concurrency=1, **options))
        sequential = sim.faults.request_counts()
        sim.faults.reset_counts()
        eight = crawl(connector(sim.base_url, monkeypatch, concurrency=8, **options))
        requests = sim.faults.request_counts()
    assert requests[CHILDREN] > len(folders) + 8 > 100  # every folder, some over many pages
    assert requests == sequential  # reading ahead asked for nothing the walk did not need
    assert shape(eight.items) == shape(one.items)
    assert eight.checkpoint.complete and not eight.failures
    index = Index().apply(eight.items)
    assert index.nodes() == repo.indexable_ids() - _shared(repo)
    assert_acls_match_oracle(repo, index)
    restricted = _files_under(repo, [folders["level1-1/level2-0"]])
    sibling = _files_under(repo, [folders["level1-1/level2-1"]])
    acls = {n: eight.docs[f"alf:{n}"].acl for n in restricted | sibling}
    assert len({str(acl) for acl in acls.values()}) == 2  # the subtree's own permissions
    bob = index.principal("bob")
    assert {n for n, acl in acls.items() if acl is not None and acl.permits(bob)} == sibling


def test_a_failed_listing_at_concurrency_8_deletes_nothing(monkeypatch) -> None:
    repo, folders = nested_repository()
    with simulator(repo) as sim:
        sim.faults.set_latency(2)
        target = connector(sim.base_url, monkeypatch, concurrency=8, max_retries=1, page_size=4)
        first = crawl(target)
        assert first.checkpoint.complete
        broken = [folders["level1-0/level2-2"], folders["level1-2/level2-1/level3-0"]]
        hidden = {f"alf:{n}" for n in _files_under(repo, broken)}
        gone = _one_file_in(repo, folders["level1-1"])
        repo.delete(gone)
        repo.purge(gone)  # no trace in the trashcan: only a complete walk proves it is gone
        sim.faults.malform(*broken)
        second = crawl(target, SyncMode.FULL, first.checkpoint)
        assert sorted(f.id for f in second.failures) == sorted(f"alf:{n}" for n in broken)
        assert not second.deleted and not second.checkpoint.complete
        assert hidden and not hidden & set(second.docs)
        sim.faults.clear()
        healed = crawl(target, SyncMode.FULL, second.checkpoint)
        assert healed.checkpoint.complete and healed.deleted == {f"alf:{gone}"}
        assert hidden <= set(healed.docs)


def test_an_interrupted_pass_at_concurrency_8_resumes_losing_nothing(monkeypatch) -> None:
    repo, folders = nested_repository()
    with simulator(repo) as sim:
        sim.faults.set_latency(2)
        target = connector(
            sim.base_url, monkeypatch, concurrency=8, checkpoint_every=5, crawl_comments=True
        )
        first = crawl(target)
        gone = _one_file_in(repo, folders["level1-2/level2-2"])
        repo.delete(gone)
        repo.purge(gone)
        changed = _one_file_in(repo, folders["level1-0/level2-1/level3-1"])
        repo.update_content(changed, b"rewritten while nobody was looking")

        # A full pass stops (the worker died) three checkpoints in, downloads still running.
        before: list[CrawlItem] = []
        running = target.crawl(SyncMode.FULL, first.checkpoint, CrawlLimits())
        for item in running:
            before.append(item)
            if sum(isinstance(i, Checkpoint) for i in before) == 3:
                break
        running.close()
        saved = before[-1]
        assert isinstance(saved, Checkpoint) and not saved.complete

        resumed = crawl(target, SyncMode.FULL, saved)
        assert resumed.checkpoint.complete
        done = {i.id for i in before if isinstance(i, Document)}
        assert done and not done & set(resumed.docs)  # nothing checkpointed is read again
        clean = crawl(target, SyncMode.FORCED_FULL)
        assert done | set(resumed.docs) == set(clean.docs)  # and nothing was skipped
        assert resumed.deleted == {f"alf:{gone}"}
        index = Index().apply(first.items).apply(before).apply(resumed.items)
        assert index.docs == clean.docs
        assert b"rewritten" in (index.docs[f"alf:{changed}"].content or b"")


def _files_under(repo: Repository, folder_ids: list[str]) -> set[str]:
    with repo.lock:
        found = {n.id for f in folder_ids for n in repo.descendants(f)}
        return found & repo.indexable_ids()


def _one_file_in(repo: Repository, folder_id: str) -> str:
    with repo.lock:
        return sorted(n.id for n in repo.child_nodes(folder_id) if n.node_type == "cm:content")[0]


def _shared(repo: Repository) -> set[str]:
    with repo.lock:
        return {n.id for n in repo.descendants(repo.shared_id)}
