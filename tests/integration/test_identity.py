"""The identity store: nested groups resolved transitively per namespace, stale groups
forgotten, every change visible to caches through the generation marker."""

from __future__ import annotations

from acl import GLOBAL, resolve
from connectors.models import GroupMembership
from search.identity import SCHEMA, IdentityStore
from search.runtime import Runtime


def groups_of(store: IdentityStore, user: str, source: str = "alf", fold: bool = False) -> set[str]:
    return set(resolve(store, user, (), {source: fold}).paths_for(source))


def test_nested_groups_resolve_and_deleted_groups_stop_granting(runtime: Runtime) -> None:
    store = IdentityStore(runtime.es, f"{runtime.settings.index_prefix}-identity-test")
    store.put_memberships(
        "alf",
        [
            GroupMembership(group="GROUP_engineering", groups=["GROUP_backend"]),
            GroupMembership(group="GROUP_backend", users=["bob"]),
            GroupMembership(group="GROUP_project_x", users=["bob"]),
        ],
        job_id="job-1",
    )
    assert groups_of(store, "bob") == {"GROUP_backend", "GROUP_engineering", "GROUP_project_x"}
    assert resolve(store, "bob", (), {"alf": False}).paths_for("alf")["GROUP_engineering"] == [
        "GROUP_backend",
        "GROUP_engineering",
    ]

    # The next complete full sync no longer sees GROUP_project_x: it was deleted at the source.
    store.put_memberships(
        "alf",
        [
            GroupMembership(group="GROUP_engineering", groups=["GROUP_backend"]),
            GroupMembership(group="GROUP_backend", users=["bob"]),
        ],
        job_id="job-2",
    )
    assert store.delete_stale("alf", "job-2") == 1
    assert groups_of(store, "bob") == {"GROUP_backend", "GROUP_engineering"}
    # Another data source's memberships are untouched.
    store.put_memberships("other", [GroupMembership(group="GROUP_x", users=["bob"])], job_id="j")
    store.delete_stale("alf", "job-3")
    assert groups_of(store, "bob") == set()
    assert groups_of(store, "bob", "other") == {"GROUP_x"}


def test_mappings_put_through_the_api_survive_syncs(runtime: Runtime) -> None:
    store = IdentityStore(runtime.es, f"{runtime.settings.index_prefix}-identity-test2")
    store.put_memberships("alf", [GroupMembership(group="GROUP_admins_by_hand", users=["ann"])])
    store.put_memberships(
        "alf", [GroupMembership(group="GROUP_crawled", users=["ann"])], job_id="job-1"
    )
    assert store.delete_stale("alf", "job-2") == 1
    assert groups_of(store, "ann") == {"GROUP_admins_by_hand"}


def test_groups_that_failed_to_read_are_kept(runtime: Runtime) -> None:
    store = IdentityStore(runtime.es, f"{runtime.settings.index_prefix}-identity-test3")
    store.put_memberships(
        "alf",
        [
            GroupMembership(group="GROUP_a", users=["ann"]),
            GroupMembership(group="GROUP_b", users=["ann"]),
        ],
        job_id="job-1",
    )
    # job-2 could not list GROUP_b's members (a Failure with the group's id): keep its record.
    store.put_memberships("alf", [GroupMembership(group="GROUP_a", users=["ann"])], job_id="job-2")
    assert store.delete_stale("alf", "job-2", keep=["GROUP_b"]) == 0
    assert groups_of(store, "ann") == {"GROUP_a", "GROUP_b"}


def test_groups_of_one_source_never_expand_in_another(runtime: Runtime) -> None:
    store = IdentityStore(runtime.es, f"{runtime.settings.index_prefix}-identity-test4")
    store.put_memberships(
        "a", [GroupMembership(group="GROUP_site_eng_SiteConsumer", groups=["GROUP_contractors"])]
    )
    store.put_memberships("b", [GroupMembership(group="GROUP_contractors", users=["dave"])])
    store.put_memberships(GLOBAL, [GroupMembership(group="GROUP_auditors", users=["dave"])])
    found = resolve(store, "dave", (), {"a": False, "b": False})
    assert set(found.global_paths) == {"GROUP_auditors"}
    assert set(found.paths_for("b")) == {"GROUP_auditors", "GROUP_contractors"}
    assert set(found.paths_for("a")) == {"GROUP_auditors"}
    principal = found.principal()
    assert principal.sources["b"].groups == {"GROUP_contractors"}
    assert principal.sources["a"].groups == frozenset()


def test_case_insensitive_sources_match_ids_without_case(runtime: Runtime) -> None:
    store = IdentityStore(runtime.es, f"{runtime.settings.index_prefix}-identity-test5")
    store.put_memberships(
        "alf",
        [
            GroupMembership(group="GROUP_Eng", users=["Alice"]),
            GroupMembership(group="GROUP_Staff", groups=["group_eng"]),
        ],
    )
    assert groups_of(store, "ALICE", fold=True) == {"GROUP_Eng", "GROUP_Staff"}
    assert groups_of(store, "ALICE", fold=False) == set()


def test_every_change_moves_the_generation(runtime: Runtime) -> None:
    store = IdentityStore(runtime.es, f"{runtime.settings.index_prefix}-identity-test6")
    seen = {store.generation()}
    store.put_memberships("alf", [GroupMembership(group="GROUP_a", users=["ann"])], job_id="j1")
    seen.add(store.generation())
    store.delete_stale("alf", "j2")
    seen.add(store.generation())
    store.put_memberships(GLOBAL, [GroupMembership(group="GROUP_m", users=["ann"])])
    seen.add(store.generation())
    store.delete_membership("GROUP_m")
    seen.add(store.generation())
    store.delete_source("alf")
    seen.add(store.generation())
    assert len(seen) == 6


def test_records_of_an_older_version_are_upgraded_at_start(runtime: Runtime) -> None:
    index = f"{runtime.settings.index_prefix}-identity-test7"
    runtime.es.indices.create(
        index=index,
        mappings={
            "dynamic": "strict",
            "properties": {
                name: {"type": "keyword"}
                for name in ("data_source_id", "group", "users", "groups", "sync_job")
            },
        },
    )
    runtime.es.index(
        index=index,
        id="alf\x1fGROUP_Eng",
        document={"data_source_id": "alf", "group": "GROUP_Eng", "users": ["Alice"], "groups": []},
        refresh=True,
    )
    store = IdentityStore(runtime.es, index)
    assert groups_of(store, "alice", fold=True) == {"GROUP_Eng"}
    doc = runtime.es.get(index=index, id="alf\x1fGROUP_Eng").body["_source"]
    assert doc["schema"] == SCHEMA and doc["users_lc"] == ["alice"]


def test_principal_cache_follows_the_generation_not_only_its_ttl(runtime: Runtime) -> None:
    from search.principals import PrincipalService

    store = IdentityStore(runtime.es, f"{runtime.settings.index_prefix}-identity-test8")
    store.put_memberships("alf", [GroupMembership(group="GROUP_a", users=["ann"])], job_id="j1")
    service = PrincipalService(store, lambda: {"alf": False}, ttl_s=3600)
    first = service.for_user("ann", ["GROUP_tok"])
    assert first.sources["alf"].groups == {"GROUP_a"} and first.groups == {"GROUP_tok"}
    # A write that does not (yet) bump the generation is not seen: the entry is reused.
    runtime.es.index(
        index=store.index,
        id="alf\x1fGROUP_b",
        document={"data_source_id": "alf", "group": "GROUP_b", "users": ["ann"], "schema": 2},
        refresh=True,
    )
    assert service.for_user("ann", ["GROUP_tok"]) is first
    # A completed identity change (here: a sync forgetting GROUP_a) is seen at once.
    store.delete_stale("alf", "j2")
    after = service.for_user("ann", ["GROUP_tok"])
    assert after.sources["alf"].groups == {"GROUP_b"}
