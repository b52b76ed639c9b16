"""Nested group resolution and principal expansion."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from acl import AccessControlList, GroupResolver, MembershipGraph, Principal, expand_principal

GRAPH = MembershipGraph(
    group_users={"eng": ["alice"], "ops": ["bob"], "contractors": ["carol"]},
    group_subgroups={"staff": ["eng", "ops"], "all": ["staff"], "vendors": ["contractors"]},
)


def test_groups_are_resolved_through_every_level() -> None:
    assert GRAPH.groups_of("alice") == {"eng", "staff", "all"}
    assert GRAPH.groups_of("carol") == {"contractors", "vendors"}


def test_direct_groups_are_only_the_listed_ones() -> None:
    assert GRAPH.direct_groups_of("alice") == {"eng"}


def test_unknown_user_has_no_groups() -> None:
    assert GRAPH.groups_of("mallory") == set()


def test_cycles_terminate_and_include_every_group_on_the_cycle() -> None:
    graph = MembershipGraph(
        group_users={"a": ["u"]}, group_subgroups={"a": ["c"], "b": ["a"], "c": ["b"]}
    )
    assert graph.groups_of("u") == {"a", "b", "c"}


def test_self_membership_is_harmless() -> None:
    graph = MembershipGraph(group_users={"a": ["u"]}, group_subgroups={"a": ["a"]})
    assert graph.groups_of("u") == {"a"}


def test_expand_groups_adds_parents_of_given_groups() -> None:
    assert GRAPH.expand_groups(["ops"]) == {"ops", "staff", "all"}
    assert GRAPH.expand_groups(["unknown"]) == {"unknown"}


def test_membership_paths_give_a_shortest_chain() -> None:
    graph = MembershipGraph(
        group_users={"eng": ["alice"], "all": ["alice"]},
        group_subgroups={"staff": ["eng"], "all": ["staff"]},
    )
    paths = graph.membership_paths("alice")
    assert paths == {"eng": ["eng"], "staff": ["eng", "staff"], "all": ["all"]}


def test_membership_paths_start_from_token_groups_too() -> None:
    assert GRAPH.membership_paths(None, ["ops"])["all"] == ["ops", "staff", "all"]


def test_membership_graph_is_a_group_resolver() -> None:
    assert isinstance(GRAPH, GroupResolver)


def test_expand_principal_merges_token_and_directory_groups() -> None:
    principal = Principal(user="alice", groups=frozenset({"contractors", "token-only"}))
    expanded = expand_principal(principal, GRAPH)
    assert expanded.user == "alice"
    assert expanded.groups == {"eng", "staff", "all", "contractors", "vendors", "token-only"}


def test_expand_principal_for_anonymous_uses_only_token_groups() -> None:
    assert expand_principal(Principal.anonymous(), GRAPH) == Principal.anonymous()
    anonymous_ops = expand_principal(Principal(groups=frozenset({"ops"})), GRAPH)
    assert anonymous_ops == Principal(groups=frozenset({"ops", "staff", "all"}))


def test_expansion_makes_nested_denies_apply() -> None:
    acl = AccessControlList(allow_groups=["GROUP_EVERYONE"], deny_groups=["vendors"])
    carol = Principal(user="carol")
    assert acl.permits(carol)
    assert not acl.permits(expand_principal(carol, GRAPH))


def test_expansion_makes_nested_allows_apply() -> None:
    acl = AccessControlList(allow_groups=["all"])
    assert not acl.permits(Principal(user="alice"))
    assert acl.permits(expand_principal(Principal(user="alice"), GRAPH))


# --- property: the graph agrees with a brute-force closure -------------------------------------

USERS = ["u0", "u1", "u2"]
GROUPS = [f"g{i}" for i in range(7)]

memberships = st.dictionaries(
    st.sampled_from(GROUPS), st.lists(st.sampled_from(USERS), max_size=3), max_size=7
)
nesting = st.dictionaries(
    st.sampled_from(GROUPS), st.lists(st.sampled_from(GROUPS), max_size=4), max_size=7
)


def brute_force_closure(
    group_users: dict[str, list[str]], group_subgroups: dict[str, list[str]], user: str
) -> set[str]:
    groups = {g for g, users in group_users.items() if user in users}
    while True:
        grown = groups | {p for p, subs in group_subgroups.items() if groups & set(subs)}
        if grown == groups:
            return groups
        groups = grown


def brute_force_distances(
    group_users: dict[str, list[str]], group_subgroups: dict[str, list[str]], user: str
) -> dict[str, int]:
    distance = {g: 1 for g, users in group_users.items() if user in users}
    for _ in GROUPS:
        for parent, subs in group_subgroups.items():
            for sub in subs:
                if sub in distance and distance[sub] + 1 < distance.get(parent, len(GROUPS) + 9):
                    distance[parent] = distance[sub] + 1
    return distance


@settings(max_examples=300)
@given(group_users=memberships, group_subgroups=nesting, user=st.sampled_from(USERS))
def test_nested_resolution_equals_brute_force_closure(
    group_users: dict[str, list[str]], group_subgroups: dict[str, list[str]], user: str
) -> None:
    graph = MembershipGraph(group_users, group_subgroups)
    assert graph.groups_of(user) == brute_force_closure(group_users, group_subgroups, user)


@settings(max_examples=300)
@given(group_users=memberships, group_subgroups=nesting, user=st.sampled_from(USERS))
def test_membership_paths_are_real_and_shortest_chains(
    group_users: dict[str, list[str]], group_subgroups: dict[str, list[str]], user: str
) -> None:
    paths = MembershipGraph(group_users, group_subgroups).membership_paths(user)
    distances = brute_force_distances(group_users, group_subgroups, user)
    assert set(paths) == set(distances)
    for group, path in paths.items():
        assert path[-1] == group
        assert user in group_users[path[0]]
        for child, parent in pairwise(path):
            assert child in group_subgroups[parent]
        assert len(path) == distances[group]
