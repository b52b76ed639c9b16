"""The identity store: nested groups resolved transitively, stale groups forgotten."""

from __future__ import annotations

from connectors.models import GroupMembership
from search.identity import IdentityStore
from search.runtime import Runtime


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
    assert store.groups_of("bob") == {"GROUP_backend", "GROUP_engineering", "GROUP_project_x"}
    assert store.membership_paths("bob")["GROUP_engineering"] == [
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
    assert store.groups_of("bob") == {"GROUP_backend", "GROUP_engineering"}
    # Another data source's memberships are untouched.
    store.put_memberships("other", [GroupMembership(group="GROUP_x", users=["bob"])], job_id="j")
    store.delete_stale("alf", "job-3")
    assert store.groups_of("bob") == {"GROUP_x"}


def test_mappings_put_through_the_api_survive_syncs(runtime: Runtime) -> None:
    store = IdentityStore(runtime.es, f"{runtime.settings.index_prefix}-identity-test2")
    store.put_memberships("alf", [GroupMembership(group="GROUP_admins_by_hand", users=["ann"])])
    store.put_memberships(
        "alf", [GroupMembership(group="GROUP_crawled", users=["ann"])], job_id="job-1"
    )
    assert store.delete_stale("alf", "job-2") == 1
    assert store.groups_of("ann") == {"GROUP_admins_by_hand"}


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
    assert store.groups_of("ann") == {"GROUP_a", "GROUP_b"}
