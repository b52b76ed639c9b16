"""Explanations of access decisions, held to agreement with ``AccessControlList.permits``."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from acl import (
    EVERYONE,
    AccessControlList,
    MembershipGraph,
    Principal,
    explain,
    resolve,
)

ALICE = Principal(user="alice", groups=frozenset({"eng"}))


def test_user_entry_grants() -> None:
    result = explain(AccessControlList(allow_users=["alice"]), ALICE)
    assert result.allowed
    assert [(e.effect, e.kind, e.value) for e in result.granting] == [("allow", "user", "alice")]
    assert result.denying == []
    assert "user 'alice' in allow_users" in result.summary
    assert result.summary.startswith("Allowed")


def test_deny_wins_and_the_summary_says_so() -> None:
    acl = AccessControlList(allow_users=["alice"], allow_groups=["eng"], deny_groups=["eng"])
    result = explain(acl, ALICE)
    assert not result.allowed
    assert [e.value for e in result.denying] == ["eng"]
    assert len(result.granting) == 2
    assert result.summary.startswith("Denied to user 'alice'")
    assert "Deny wins over 2 allowing entries" in result.summary


def test_user_deny_is_reported() -> None:
    result = explain(AccessControlList(allow_groups=[EVERYONE], deny_users=["alice"]), ALICE)
    assert not result.allowed
    assert [(e.effect, e.kind) for e in result.denying] == [("deny", "user")]


def test_everyone_matches_implicitly_even_for_anonymous() -> None:
    result = explain(AccessControlList.public(), Principal.anonymous())
    assert result.allowed
    (entry,) = result.granting
    assert entry.value == EVERYONE and entry.implicit
    assert "the anonymous searcher" in result.summary
    assert "everyone belongs to it" in result.summary


def test_anonymous_never_matches_user_entries() -> None:
    result = explain(AccessControlList(allow_users=["alice"]), Principal.anonymous())
    assert not result.allowed and result.granting == []


def test_empty_acl_grants_nothing_and_says_why() -> None:
    result = explain(AccessControlList(deny_users=["bob"]), ALICE)
    assert not result.allowed
    assert "empty list grants nothing" in result.summary


def test_no_matching_entry() -> None:
    result = explain(AccessControlList(allow_groups=["hr"], allow_users=["bob"]), ALICE)
    assert not result.allowed
    assert "no entry in allow_users or allow_groups matches" in result.summary


def test_nested_group_chain_is_shown() -> None:
    graph = MembershipGraph(
        group_users={"eng": ["alice"]}, group_subgroups={"staff": ["eng"], "all": ["staff"]}
    )
    principal = resolve(graph, "alice").principal()
    result = explain(
        AccessControlList(allow_groups=["all"]), principal, graph.membership_paths("alice")
    )
    assert result.allowed
    assert result.granting[0].via == ["eng", "staff", "all"]
    assert "via eng → staff → all" in result.summary


def test_nested_deny_chain_is_shown() -> None:
    graph = MembershipGraph(
        group_users={"contractors": ["carol"]}, group_subgroups={"vendors": ["contractors"]}
    )
    principal = resolve(graph, "carol").principal()
    acl = AccessControlList(allow_groups=[EVERYONE], deny_groups=["vendors"])
    result = explain(acl, principal, graph.membership_paths("carol"))
    assert not result.allowed
    assert result.denying[0].via == ["contractors", "vendors"]
    assert "group 'vendors' in deny_groups via contractors → vendors" in result.summary


def test_group_without_a_path_shows_as_direct() -> None:
    result = explain(AccessControlList(allow_groups=["eng"]), ALICE, via={"other": ["x", "other"]})
    assert result.granting[0].via == ["eng"]


def test_path_that_stops_short_of_the_group_is_completed() -> None:
    principal = Principal(user="alice", groups=frozenset({"eng", "staff"}))
    result = explain(AccessControlList(allow_groups=["staff"]), principal, via={"staff": ["eng"]})
    assert result.granting[0].via == ["eng", "staff"]


def test_explanation_serialises_for_the_api() -> None:
    data = explain(AccessControlList(allow_groups=["eng"]), ALICE).model_dump()
    assert data["allowed"] is True
    assert data["granting"][0] == {
        "effect": "allow",
        "kind": "group",
        "value": "eng",
        "via": ["eng"],
        "implicit": False,
    }


# --- property: the explanation and the enforcement never disagree ------------------------------

USERS = ["alice", "bob", "carol"]
GROUPS = ["g1", "g2", "g3", "g4", EVERYONE]

acls = st.builds(
    AccessControlList,
    allow_users=st.lists(st.sampled_from(USERS), max_size=3),
    allow_groups=st.lists(st.sampled_from(GROUPS), max_size=3),
    deny_users=st.lists(st.sampled_from(USERS), max_size=2),
    deny_groups=st.lists(st.sampled_from(GROUPS), max_size=2),
)
principals = st.builds(
    Principal,
    user=st.none() | st.sampled_from(USERS),
    groups=st.frozensets(st.sampled_from(GROUPS), max_size=4),
)


@settings(max_examples=500)
@given(acl=acls, principal=principals)
def test_verdict_always_agrees_with_permits(acl: AccessControlList, principal: Principal) -> None:
    result = explain(acl, principal)
    assert result.allowed == acl.permits(principal)
    assert result.summary.startswith("Allowed" if result.allowed else ("Denied", "Not allowed"))


@settings(max_examples=300)
@given(acl=acls, principal=principals)
def test_every_reported_entry_is_in_the_acl_and_matches(
    acl: AccessControlList, principal: Principal
) -> None:
    result = explain(acl, principal)
    member_of = set(principal.groups) | {EVERYONE}
    for entry in [*result.granting, *result.denying]:
        assert entry.value in getattr(acl, entry.list_name)
        if entry.kind == "user":
            assert entry.value == principal.user
        else:
            assert entry.value in member_of
    expected_denies = {u for u in acl.deny_users if u == principal.user} | (
        set(acl.deny_groups) & member_of
    )
    assert {e.value for e in result.denying} == expected_denies


@settings(max_examples=200)
@given(
    acl=acls,
    user=st.sampled_from(USERS),
    group_users=st.dictionaries(st.sampled_from(GROUPS[:4]), st.lists(st.sampled_from(USERS))),
    group_subgroups=st.dictionaries(
        st.sampled_from(GROUPS), st.lists(st.sampled_from(GROUPS[:4]), max_size=3)
    ),
)
def test_verdict_agrees_for_expanded_principals_with_paths(
    acl: AccessControlList,
    user: str,
    group_users: dict[str, list[str]],
    group_subgroups: dict[str, list[str]],
) -> None:
    graph = MembershipGraph(group_users, group_subgroups)
    principal = resolve(graph, user).principal()
    result = explain(acl, principal, graph.membership_paths(user))
    assert result.allowed == acl.permits(principal)
    for entry in result.granting + result.denying:
        if entry.kind == "group" and not entry.implicit:
            assert entry.via[-1] == entry.value
