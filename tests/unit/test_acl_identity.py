"""Nested group resolution, per data source namespace, and principal expansion."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from acl import (
    GLOBAL,
    AccessControlList,
    MembershipEdges,
    MembershipGraph,
    Principal,
    resolve,
)

GRAPH = MembershipGraph(
    group_users={"eng": ["alice"], "ops": ["bob"], "contractors": ["carol"]},
    group_subgroups={"staff": ["eng", "ops"], "all": ["staff"], "vendors": ["contractors"]},
)


def test_groups_are_resolved_through_every_level() -> None:
    assert GRAPH.groups_of("alice") == {"eng", "staff", "all"}
    assert GRAPH.groups_of("carol") == {"contractors", "vendors"}


def test_direct_groups_are_only_the_listed_ones() -> None:
    assert GRAPH.direct_groups("alice", [GLOBAL], fold=False) == {"eng"}


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


def test_membership_graph_is_membership_edges() -> None:
    assert isinstance(GRAPH, MembershipEdges)


def test_resolve_merges_token_and_directory_groups() -> None:
    expanded = resolve(GRAPH, "alice", {"contractors", "token-only"}).principal()
    assert expanded.user == "alice"
    assert expanded.groups == {"eng", "staff", "all", "contractors", "vendors", "token-only"}


def test_resolve_for_anonymous_uses_only_given_groups() -> None:
    assert resolve(GRAPH, None).principal() == Principal.anonymous()
    anonymous_ops = resolve(GRAPH, None, ["ops"]).principal()
    assert anonymous_ops == Principal(groups=frozenset({"ops", "staff", "all"}))


def test_expansion_makes_nested_denies_apply() -> None:
    acl = AccessControlList(allow_groups=["GROUP_EVERYONE"], deny_groups=["vendors"])
    carol = Principal(user="carol")
    assert acl.permits(carol)
    assert not acl.permits(resolve(GRAPH, "carol").principal())


def test_expansion_makes_nested_allows_apply() -> None:
    acl = AccessControlList(allow_groups=["all"])
    assert not acl.permits(Principal(user="alice"))
    assert acl.permits(resolve(GRAPH, "alice").principal())


# --- namespaces: one source's groups never open another source's documents ---------------------

# Two repositories name their groups alike: in A, contractors sit inside the engineering site
# group; in B, dave is only a contractor and the site group holds engineers alone.
REPOS = (
    MembershipGraph()
    .add("A", {"contractors": ["erin"], "marketing": ["erin"]}, {"site_eng": ["contractors"]})
    .add("B", {"contractors": ["dave"], "site_eng": ["bob"]})
)
SCOPES = {"A": False, "B": False}


def test_a_sources_nesting_counts_only_for_that_source() -> None:
    dave = resolve(REPOS, "dave", (), SCOPES).principal()
    site_doc = AccessControlList(allow_groups=["site_eng"])
    assert not site_doc.permits(dave, "B")
    assert not site_doc.permits(dave, "A")  # dave is in no group of A at all
    erin = resolve(REPOS, "erin", (), SCOPES).principal()
    assert site_doc.permits(erin, "A")
    assert not site_doc.permits(erin, "B")


def test_a_sources_membership_never_denies_in_another_source() -> None:
    erin = resolve(REPOS, "erin", (), SCOPES).principal()
    doc = AccessControlList(allow_groups=["GROUP_EVERYONE"], deny_groups=["marketing"])
    assert not doc.permits(erin, "A")
    assert doc.permits(erin, "B")


def test_token_groups_count_for_every_source_and_expand_in_each() -> None:
    frank = resolve(REPOS, "frank", {"contractors"}, SCOPES).principal()
    site_doc = AccessControlList(allow_groups=["site_eng"])
    assert site_doc.permits(frank, "A")  # A nests contractors inside site_eng
    assert not site_doc.permits(frank, "B")
    assert AccessControlList(allow_groups=["contractors"]).permits(frank, "B")


def test_global_mappings_count_everywhere_and_scoped_ones_only_in_their_source() -> None:
    graph = (
        MembershipGraph()
        .add(GLOBAL, {"auditors": ["gina"]})
        .add("A", {"reviewers": ["gina"]}, {"site_eng": ["auditors"]})
    )
    gina = resolve(graph, "gina", (), SCOPES).principal()
    assert "auditors" in gina.groups
    assert AccessControlList(allow_groups=["auditors"]).permits(gina, "B")
    assert AccessControlList(allow_groups=["site_eng"]).permits(gina, "A")
    assert not AccessControlList(allow_groups=["reviewers"]).permits(gina, "B")
    assert AccessControlList(allow_groups=["reviewers"]).permits(gina, "A")


def test_source_groups_given_for_one_source_count_only_there() -> None:
    given = resolve(REPOS, "zoe", (), SCOPES, {"B": ["site_eng"]}).principal()
    doc = AccessControlList(allow_groups=["site_eng"])
    assert doc.permits(given, "B") and not doc.permits(given, "A")


def test_case_insensitive_sources_match_ids_without_case() -> None:
    graph = MembershipGraph().add("A", {"GROUP_Site_Eng": ["Alice"]}).add("B", {"eng": ["alice"]})
    alice = resolve(graph, "alice", {"GROUP_Auditors"}, {"A": True, "B": False}).principal()
    assert AccessControlList(allow_groups=["group_site_eng"]).permits(alice, "A")
    assert AccessControlList(allow_users=["ALICE"]).permits(alice, "A")
    assert not AccessControlList(allow_users=["ALICE"]).permits(alice, "B")
    assert AccessControlList(allow_groups=["group_auditors"]).permits(alice, "A")
    assert not AccessControlList(allow_groups=["group_auditors"]).permits(alice, "B")
    denied = AccessControlList(allow_groups=["GROUP_EVERYONE"], deny_users=["ALICE"])
    assert not denied.permits(alice, "A") and denied.permits(alice, "B")


def test_a_document_of_an_unknown_source_sees_only_global_groups() -> None:
    dave = resolve(REPOS, "dave", {"tok"}, SCOPES).principal()
    assert not AccessControlList(allow_groups=["contractors"]).permits(dave, "C")
    assert AccessControlList(allow_groups=["tok"]).permits(dave, "C")
    assert not AccessControlList(allow_groups=["contractors"]).permits(dave)


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
