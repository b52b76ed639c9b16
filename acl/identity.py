"""Group membership: who belongs to which group, directly or through nested groups.

Connectors report direct memberships only (a user in a group, a group in a group). Access
decisions need the transitive closure, computed here once for every store that can list
direct edges: ``MembershipGraph`` in memory, and the Elasticsearch-backed store on top of it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from typing import Protocol, runtime_checkable

from acl.models import Principal


@runtime_checkable
class GroupResolver(Protocol):
    """Answers group questions for ``expand_principal``; both answers are transitive."""

    def groups_of(self, user: str) -> set[str]:
        """Every group the user belongs to, directly or through nested groups."""
        ...

    def expand_groups(self, groups: Iterable[str]) -> set[str]:
        """The given groups plus every group that contains one of them, at any depth."""
        ...


class MembershipGraph:
    """Direct memberships in memory, resolved transitively; cycles are harmless.

    ``group_users`` maps a group to its direct user members and ``group_subgroups`` maps a
    group to the groups directly inside it (members of a subgroup are members of the group).
    """

    def __init__(
        self,
        group_users: Mapping[str, Iterable[str]] | None = None,
        group_subgroups: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        self._user_groups: dict[str, set[str]] = {}
        for group, users in (group_users or {}).items():
            for user in users:
                self._user_groups.setdefault(user, set()).add(group)
        self._parents: dict[str, set[str]] = {}
        for group, subgroups in (group_subgroups or {}).items():
            for subgroup in subgroups:
                self._parents.setdefault(subgroup, set()).add(group)

    def direct_groups_of(self, user: str) -> set[str]:
        """Groups that list the user as a direct member."""
        return set(self._user_groups.get(user, ()))

    def groups_of(self, user: str) -> set[str]:
        return set(self.membership_paths(user))

    def expand_groups(self, groups: Iterable[str]) -> set[str]:
        return set(self.membership_paths(None, groups))

    def membership_paths(
        self, user: str | None, groups: Iterable[str] = ()
    ) -> dict[str, list[str]]:
        """For each group reached, a shortest chain that reaches it.

        The chain starts at a group the user is directly in (or one of ``groups``, such as the
        token's) and ends at the group itself: ``{"staff": ["eng", "staff"]}`` reads "in eng,
        which is inside staff". This is the ``via`` that ``acl.explain.explain`` takes.
        """
        starts = set(groups)
        if user is not None:
            starts |= self._user_groups.get(user, set())
        paths: dict[str, list[str]] = {g: [g] for g in sorted(starts)}
        queue = deque(paths)
        while queue:
            group = queue.popleft()
            for parent in sorted(self._parents.get(group, ())):
                if parent not in paths:
                    paths[parent] = [*paths[group], parent]
                    queue.append(parent)
        return paths


def expand_principal(principal: Principal, resolver: GroupResolver) -> Principal:
    """The principal with every group it holds: the token's groups, the directory's groups for
    the user, and all groups containing either. Expansion only adds groups, so it can both
    widen access (nested allows) and narrow it (nested denies), exactly as the source meant."""
    groups = resolver.expand_groups(principal.groups)
    if principal.user is not None:
        groups |= resolver.groups_of(principal.user)
    return Principal(user=principal.user, groups=frozenset(groups))
