"""Identities belong to their data source: two Alfresco repositories, same names, no leaks.

Both simulated repositories have the same site ids and group names (Alfresco names its site
groups alike everywhere) but different memberships and ACLs; they are synced as two data
sources by a real worker. Every user's readable set in each source is compared with that
repository's own truth (the simulator's ``readable_by``), through the one ACL filter.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from celery import Celery
from elasticsearch import Elasticsearch

from acl import GLOBAL, Principal
from connectors.models import GroupMembership, SyncMode
from devtools.alfresco_sim import Repository, SimulatorHandle, generate_repository
from devtools.alfresco_sim.generator import GeneratorConfig
from search.filters import acl_filter
from search.principals import PrincipalService
from search.runtime import Runtime
from search.settings import Settings
from sync_engine.jobs import SyncService
from sync_engine.models import DataSourceSpec
from sync_engine.service import DataSourceService, principal_service
from tests.integration.alfresco_fixtures import FAST, SITES, simulator
from tests.stack import WorkerProcess, running_worker
from tests.sync_support import app, rt, sources, sync, sync_settings, wait_done, worker_env

__all__ = ["app", "rt", "sources", "sync"]

SECRET_ENV = "QUARRY_TEST_IDSRC_ALFRESCO"
CREDENTIALS = json.dumps({"username": "admin", "password": "admin"})
A, B = "idsrc-a", "idsrc-b"
SMALL = GeneratorConfig(files_per_site=3, wiki_pages_per_site=1, blog_posts_per_site=1)
ENG_CONSUMER = "GROUP_site_engineering_SiteConsumer"
MKT_CONSUMER = "GROUP_site_marketing_SiteConsumer"


@pytest.fixture(scope="module")
def s(settings: Settings) -> Settings:
    return sync_settings(settings, "idsrc")


@pytest.fixture(scope="module")
def worker(
    s: Settings, app: Celery, redis_client: object, log_dir: Path
) -> Iterator[WorkerProcess]:
    os.environ[SECRET_ENV] = CREDENTIALS
    env = {**worker_env(s), SECRET_ENV: CREDENTIALS}
    with running_worker(app, s, "idsrc", log_dir, **env) as proc:
        yield proc


def _repositories() -> tuple[Repository, Repository]:
    a = generate_repository(replace(SMALL, seed=7))
    b = generate_repository(replace(SMALL, seed=8))
    # A: contractors consume the engineering site; dave and erin are in marketing.
    if "GROUP_contractors" not in a.groups[ENG_CONSUMER].members:
        a.add_group_member(ENG_CONSUMER, "GROUP_contractors")
    # B: contractors may not read engineering; dave is a contractor only; erin is in no
    # marketing group, and a marketing folder denies GROUP_marketing (but not erin).
    for group in b.groups.values():
        if "GROUP_contractors" in group.members and group.id.startswith("GROUP_site_engineering"):
            b.remove_group_member(group.id, "GROUP_contractors")
    b.remove_group_member("GROUP_marketing", "dave")
    b.add_group_member("GROUP_contractors", "dave")
    b.remove_group_member("GROUP_marketing", "erin")
    library = b.container_id("marketing", "documentLibrary")
    b.set_permissions(
        library,
        locally_set=[
            ("GROUP_marketing", "Read", "DENIED"),
            ("erin", "Consumer", "ALLOWED"),
            # Denying a write-only permission to everyone hides nothing.
            ("GROUP_EVERYONE", "Delete", "DENIED"),
        ],
    )
    return a, b


@pytest.fixture(scope="module")
def repos() -> tuple[Repository, Repository]:
    return _repositories()


@pytest.fixture(scope="module")
def sims(repos: tuple[Repository, Repository]) -> Iterator[tuple[SimulatorHandle, ...]]:
    with simulator(repos[0]) as sim_a, simulator(repos[1]) as sim_b:
        yield sim_a, sim_b


def _spec(name: str, sim: SimulatorHandle) -> DataSourceSpec:
    config = {
        "site_url": sim.base_url,
        "site_ids": SITES,
        "secret_ref": f"env:{SECRET_ENV}",
        **FAST,
    }
    return DataSourceSpec(name=name, type="alfresco", config=config)


@pytest.fixture(scope="module")
def synced(
    repos: tuple[Repository, Repository],
    sims: tuple[SimulatorHandle, ...],
    sources: DataSourceService,
    sync: SyncService,
    worker: WorkerProcess,
) -> dict[str, Repository]:
    for name, sim in ((A, sims[0]), (B, sims[1])):
        sources.create(_spec(name, sim))
    for name in (A, B):
        job = wait_done(sync, sync.start(name, SyncMode.FULL).id, timeout=300)
        assert job.status.value == "succeeded", (job.error, worker.log_tail())
    return {A: repos[0], B: repos[1]}


@pytest.fixture(scope="module")
def principals(rt: Runtime) -> PrincipalService:
    return principal_service(rt, ttl_s=300)


def readable(es: Elasticsearch, rt: Runtime, principal: Principal, source: str) -> set[str]:
    """The documents of ``source`` the one ACL filter lets ``principal`` read."""
    es.indices.refresh(index=rt.settings.docs_alias)
    hits = es.search(
        index=rt.settings.docs_alias,
        size=1000,
        query={"bool": {"filter": [acl_filter(principal), {"term": {"data_source_id": source}}]}},
        source=False,
    ).body["hits"]["hits"]
    return {h["_id"] for h in hits}


def indexed(es: Elasticsearch, rt: Runtime, source: str) -> set[str]:
    hits = es.search(
        index=rt.settings.docs_alias,
        size=1000,
        query={"term": {"data_source_id": source}},
        source=False,
    ).body["hits"]["hits"]
    return {h["_id"] for h in hits}


def truth(repo: Repository, user: str, source: str, docs: set[str]) -> set[str]:
    return {d for d in docs if d.split(":", 1)[1] in repo.readable_by(user)}


def _with_groups(repo: Repository, user: str, groups: list[str]) -> set[str]:
    """What ``user`` could read in ``repo`` if it were in ``groups`` too (the oracle's view)."""
    if user not in repo.people:
        repo.add_person(user, "pw", user.title())
    added = [g for g in groups if user not in repo.groups[g].members]
    for group in added:
        repo.add_group_member(group, user)
    try:
        return repo.readable_by(user)
    finally:
        for group in added:
            repo.remove_group_member(group, user)


def test_every_user_reads_exactly_its_own_truth_in_each_source(
    synced: dict[str, Repository], principals: PrincipalService, rt: Runtime, es: Elasticsearch
) -> None:
    users = sorted(set(synced[A].people) | set(synced[B].people))
    checked = 0
    for source, repo in synced.items():
        docs = indexed(es, rt, source)
        assert docs, f"nothing indexed for {source}"
        for user in users:
            principal = principals.for_user(user)
            expected = truth(repo, user, source, docs) if user in repo.people else set()
            got = readable(es, rt, principal, source)
            assert got == expected, (source, user, got ^ expected)
            checked += 1
    assert checked == 2 * len(users)


def test_a_chain_from_one_repository_does_not_open_the_other(
    synced: dict[str, Repository], principals: PrincipalService, rt: Runtime, es: Elasticsearch
) -> None:
    dave = principals.resolution("dave")
    # In A contractors consume engineering, in B dave is a contractor: the chain must not mix.
    assert ENG_CONSUMER not in dave.paths_for(B)
    assert ENG_CONSUMER not in dave.paths_for(A)  # dave is no contractor in A
    b_eng = {
        d
        for d in indexed(es, rt, B)
        if d.split(":", 1)[1] in synced[B].readable_by("alice")
        and d.split(":", 1)[1] not in synced[B].readable_by("dave")
    }
    assert b_eng, "the scenario needs engineering documents dave may not read in B"
    assert not (readable(es, rt, principals.for_user("dave"), B) & b_eng)


def test_a_membership_in_one_repository_never_denies_in_the_other(
    synced: dict[str, Repository], principals: PrincipalService, rt: Runtime, es: Elasticsearch
) -> None:
    erin = principals.for_user("erin")
    library = synced[B].container_id("marketing", "documentLibrary")
    under = {f"{B}:{n.id}" for n in synced[B].descendants(library) if not n.is_folder} & indexed(
        es, rt, B
    )
    assert under, "the scenario needs documents under B's marketing library"
    # erin is in GROUP_marketing in A only; B's denial of GROUP_marketing must not reach her.
    assert under <= readable(es, rt, erin, B)


def test_token_groups_count_in_both_sources(
    synced: dict[str, Repository], principals: PrincipalService, rt: Runtime, es: Elasticsearch
) -> None:
    zed = principals.for_user("zed", [ENG_CONSUMER])
    for source, repo in synced.items():
        docs = indexed(es, rt, source)
        expected = {
            d for d in docs if d.split(":", 1)[1] in _with_groups(repo, "zed", [ENG_CONSUMER])
        }
        assert readable(es, rt, zed, source) == expected, source


def test_scoped_and_global_mappings(
    synced: dict[str, Repository], principals: PrincipalService, rt: Runtime, es: Elasticsearch
) -> None:
    store = rt.identities
    store.put_memberships(B, [GroupMembership(group=ENG_CONSUMER, users=["yara"])])
    store.put_memberships(GLOBAL, [GroupMembership(group=MKT_CONSUMER, users=["yara"])])
    try:
        yara = principals.for_user("yara")
        for source, repo in synced.items():
            groups = [MKT_CONSUMER, *([ENG_CONSUMER] if source == B else [])]
            docs = indexed(es, rt, source)
            expected = {d for d in docs if d.split(":", 1)[1] in _with_groups(repo, "yara", groups)}
            assert readable(es, rt, yara, source) == expected, source
    finally:
        store.delete_membership(ENG_CONSUMER, B)
        store.delete_membership(MKT_CONSUMER, GLOBAL)
    assert principals.for_user("yara").sources[B].groups == frozenset()


def test_a_removed_membership_stops_granting_when_the_sync_finishes(
    synced: dict[str, Repository],
    principals: PrincipalService,
    sync: SyncService,
    rt: Runtime,
    es: Elasticsearch,
) -> None:
    repo = synced[B]
    before = principals.for_user("bob")  # cached for 300 s
    site_groups = [g for g in repo.groups.values() if "bob" in g.members]
    assert site_groups, "bob must be in some group of B"
    for group in site_groups:
        repo.remove_group_member(group.id, "bob")
    job = wait_done(sync, sync.start(B, SyncMode.FULL).id, timeout=300)
    assert job.status.value == "succeeded", job.error
    after = principals.for_user("bob")
    assert after != before
    docs = indexed(es, rt, B)
    assert readable(es, rt, after, B) == truth(repo, "bob", B, docs)


def test_the_rest_face_shows_each_sources_own_chain(
    synced: dict[str, Repository], s: Settings, rt: Runtime
) -> None:
    import hashlib
    import secrets

    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.settings import ApiSettings

    key = secrets.token_urlsafe(24)
    settings = ApiSettings(
        **{**s.model_dump(), "admin_key_sha256": hashlib.sha256(key.encode()).hexdigest()}
    )
    with TestClient(create_app(settings, runtime=rt)) as client:
        body = client.post(
            "/v1/identity/test",
            json={"user_id": "dave", "groups": []},
            headers={"Authorization": f"Bearer {key}"},
        ).json()
    assert "GROUP_contractors" in body["sources"][B]["groups"]
    assert ENG_CONSUMER not in body["sources"][B]["groups"]
    assert "GROUP_contractors" not in body["sources"][A]["groups"]
    assert body["groups"] == []
