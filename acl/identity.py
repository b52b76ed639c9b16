"""Group membership per namespace: who belongs to which group, directly or through nesting.

Connectors report direct memberships only (a user in a group, a group in a group), each in the
namespace of the data source that crawled it; administrators add mappings either to one data
source's namespace or to the global one. The rule, computed here once for every store that can
list direct edges (``MembershipGraph`` in memory, the Elasticsearch identity store):

- the **global** groups are the token's groups (the identity provider's, valid everywhere) plus
  what global mappings give the user, closed under global nesting;
- the groups in **source X** are the global groups plus the user's direct groups in X, closed
  under X's nesting and global nesting. They count only for X's documents, so a membership
  crawled from one repository never opens (or closes) another repository's documents, even
  when both name their groups alike.

A source may compare ids without regard to case (Alfresco does): then its edges match folded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from acl.models import Principal, SourceScope

GLOBAL = "_global"
"""The namespace of mappings made for no data source in particular."""

MAX_DEPTH = 32


@runtime_checkable
class MembershipEdges(Protocol):
    """The direct edges of some namespaces; both answers read only the given namespaces."""

    def direct_groups(self, user: str, namespaces: Sequence[str], fold: bool) -> set[str]:
        """Groups that list ``user`` as a direct member."""
        ...

    def parents(
        self, groups: Sequence[str], namespaces: Sequence[str], fold: bool
    ) -> list[tuple[str, str]]:
        """``(parent, child)`` for every group directly containing one of ``groups``."""
        ...


def _key(value: str, fold: bool) -> str:
    return value.lower() if fold else value


def membership_paths(
    edges: MembershipEdges,
    user: str | None,
    start: Mapping[str, list[str]],
    namespaces: Sequence[str],
    fold: bool = False,
) -> dict[str, list[str]]:
    """Every group reached from ``start`` and the user's direct groups, with a shortest chain.

    The chain ends at the group itself: ``{"staff": ["eng", "staff"]}`` reads "in eng, which is
    inside staff". ``start`` maps groups already held to their chains (the token's groups map to
    themselves). Cycles are harmless.
    """
    paths: dict[str, list[str]] = {}
    seen: set[str] = set()
    for group, chain in start.items():
        if _key(group, fold) not in seen:
            seen.add(_key(group, fold))
            paths[group] = list(chain)
    if user is not None:
        for group in sorted(edges.direct_groups(user, namespaces, fold)):
            if _key(group, fold) not in seen:
                seen.add(_key(group, fold))
                paths[group] = [group]
    by_key = {_key(g, fold): g for g in paths}
    frontier = sorted(paths)
    for _ in range(MAX_DEPTH):
        if not frontier:
            break
        found: list[str] = []
        for parent, child in sorted(edges.parents(frontier, namespaces, fold)):
            if _key(parent, fold) in seen:
                continue
            holder = by_key.get(_key(child, fold))
            if holder is None:
                continue
            seen.add(_key(parent, fold))
            by_key[_key(parent, fold)] = parent
            paths[parent] = [*paths[holder], parent]
            found.append(parent)
        frontier = found
    return paths


@dataclass
class Resolution:
    """A user's groups in every namespace, with the chain that leads to each."""

    user: str | None
    global_paths: dict[str, list[str]] = field(default_factory=dict)
    source_paths: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    case_insensitive: dict[str, bool] = field(default_factory=dict)

    def principal(self) -> Principal:
        """The principal the query filter takes: global groups, and each source's extras."""
        global_groups = frozenset(self.global_paths)
        sources: dict[str, SourceScope] = {}
        for source, paths in self.source_paths.items():
            fold = self.case_insensitive.get(source, False)
            held = {_key(g, fold) for g in global_groups}
            extra = frozenset(g for g in paths if _key(g, fold) not in held)
            sources[source] = SourceScope(groups=extra, case_insensitive=fold)
        return Principal(user=self.user, groups=global_groups, sources=sources)

    def paths_for(self, data_source_id: str | None) -> dict[str, list[str]]:
        """The chains that count for a document of ``data_source_id``."""
        if data_source_id is not None and data_source_id in self.source_paths:
            return self.source_paths[data_source_id]
        return self.global_paths


def resolve(
    edges: MembershipEdges,
    user: str | None,
    token_groups: Iterable[str] = (),
    sources: Mapping[str, bool] | None = None,
    source_groups: Mapping[str, Iterable[str]] | None = None,
) -> Resolution:
    """Resolve ``user`` (with the token's global groups) in the global namespace and in each of
    ``sources`` (data source id → case-insensitive ids). An anonymous caller (``None``) has no
    direct memberships; only groups it was given are expanded. ``source_groups`` are groups
    given for one source only (Kendra's ``DataSourceGroups``)."""
    start = {g: [g] for g in sorted(set(token_groups))}
    result = Resolution(user=user, case_insensitive=dict(sources or {}))
    result.global_paths = membership_paths(edges, user, start, [GLOBAL])
    for source, fold in sorted((sources or {}).items()):
        start = dict(result.global_paths)
        for group in sorted(set((source_groups or {}).get(source, ()))):
            start.setdefault(group, [group])
        result.source_paths[source] = membership_paths(edges, user, start, [source, GLOBAL], fold)
    return result


class MembershipGraph:
    """Direct memberships in memory, per namespace: the reference the stores are tested against.

    ``group_users`` maps a group to its direct user members and ``group_subgroups`` maps a
    group to the groups directly inside it (members of a subgroup are members of the group).
    Either is keyed by group alone (the global namespace) or built per namespace with
    ``MembershipGraph.scoped``.
    """

    def __init__(
        self,
        group_users: Mapping[str, Iterable[str]] | None = None,
        group_subgroups: Mapping[str, Iterable[str]] | None = None,
        namespace: str = GLOBAL,
    ) -> None:
        self._users: list[tuple[str, str, str]] = []  # (namespace, group, user)
        self._nesting: list[tuple[str, str, str]] = []  # (namespace, parent, child)
        self.add(namespace, group_users or {}, group_subgroups or {})

    def add(
        self,
        namespace: str,
        group_users: Mapping[str, Iterable[str]],
        group_subgroups: Mapping[str, Iterable[str]] | None = None,
    ) -> MembershipGraph:
        for group, users in group_users.items():
            self._users += [(namespace, group, u) for u in users]
        for group, subgroups in (group_subgroups or {}).items():
            self._nesting += [(namespace, group, s) for s in subgroups]
        return self

    def direct_groups(self, user: str, namespaces: Sequence[str], fold: bool) -> set[str]:
        return {
            g for ns, g, u in self._users if ns in namespaces and _key(u, fold) == _key(user, fold)
        }

    def parents(
        self, groups: Sequence[str], namespaces: Sequence[str], fold: bool
    ) -> list[tuple[str, str]]:
        wanted = {_key(g, fold) for g in groups}
        return [
            (parent, child)
            for ns, parent, child in self._nesting
            if ns in namespaces and _key(child, fold) in wanted
        ]

    # The single-namespace view, for callers that know no data sources.
    def membership_paths(
        self, user: str | None, groups: Iterable[str] = ()
    ) -> dict[str, list[str]]:
        start = {g: [g] for g in sorted(set(groups))}
        return membership_paths(self, user, start, [GLOBAL])

    def groups_of(self, user: str) -> set[str]:
        return set(self.membership_paths(user))

    def expand_groups(self, groups: Iterable[str]) -> set[str]:
        return set(self.membership_paths(None, groups))
