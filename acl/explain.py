"""Why a principal may or may not read a document: the entries that decide it.

The verdict is computed from the matching entries with the same rules as
``AccessControlList.permits`` (deny wins, an empty list grants nothing, everyone is in
``EVERYONE``, groups count in the namespace of the document's data source, case folded where
that source says ids are case-insensitive); tests hold the two to agreement on random inputs.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from acl.models import EVERYONE, AccessControlList, Principal

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class Entry(BaseModel):
    """One ACL entry that matches the principal."""

    model_config = _FROZEN

    effect: Literal["allow", "deny"]
    kind: Literal["user", "group"]
    value: str
    via: list[str] = []
    """For a group: the membership chain ending at ``value`` (``["eng", "staff"]``: in eng,
    which is inside staff). Empty for a user entry."""
    implicit: bool = False
    """True when the match is the implicit ``EVERYONE`` membership."""

    @property
    def list_name(self) -> str:
        return f"{self.effect}_{self.kind}s"

    def describe(self) -> str:
        text = f"{self.kind} {self.value!r} in {self.list_name}"
        if self.implicit:
            return f"{text} (everyone belongs to it)"
        if len(self.via) > 1:
            return f"{text} via {' → '.join(self.via)}"
        return text


class Explanation(BaseModel):
    """The verdict, the entries behind it and a sentence for people."""

    model_config = _FROZEN

    allowed: bool
    granting: list[Entry]
    denying: list[Entry]
    summary: str


def explain(
    acl: AccessControlList,
    principal: Principal,
    via: dict[str, list[str]] | None = None,
    data_source_id: str | None = None,
) -> Explanation:
    """Explain ``acl.permits(principal, data_source_id)``.

    ``via`` maps a group to the chain by which the principal belongs to it, as
    ``MembershipGraph.membership_paths`` returns; groups missing from it show as direct.
    Pass the expanded principal so that nested groups take part in the verdict.
    """
    scope = _Scope(principal, data_source_id)
    granting = _matches(acl.allow_users, acl.allow_groups, "allow", scope, via or {})
    denying = _matches(acl.deny_users, acl.deny_groups, "deny", scope, via or {})
    allowed = not denying and bool(granting)
    return Explanation(
        allowed=allowed,
        granting=granting,
        denying=denying,
        summary=_summary(acl, principal, granting, denying),
    )


class _Scope:
    """The principal as seen from one data source: its groups there and its case rule."""

    def __init__(self, principal: Principal, data_source_id: str | None) -> None:
        self.fold = principal.case_insensitive_for(data_source_id)
        self.user = None if principal.user is None else self.key(principal.user)
        self.groups = {self.key(g) for g in principal.groups_for(data_source_id) - {EVERYONE}}

    def key(self, value: str) -> str:
        return value.lower() if self.fold else value


def _matches(
    users: list[str],
    groups: list[str],
    effect: Literal["allow", "deny"],
    scope: _Scope,
    via: dict[str, list[str]],
) -> list[Entry]:
    entries = [
        Entry(effect=effect, kind="user", value=u)
        for u in users
        if scope.user is not None and scope.key(u) == scope.user
    ]
    folded_via = {scope.key(g): chain for g, chain in via.items()}
    for group in groups:
        if scope.key(group) in scope.groups:
            chain = list(folded_via.get(scope.key(group)) or [group])
            if scope.key(chain[-1]) != scope.key(group):
                chain.append(group)
            entries.append(Entry(effect=effect, kind="group", value=group, via=chain))
        elif scope.key(group) == scope.key(EVERYONE):
            entries.append(
                Entry(effect=effect, kind="group", value=group, via=[group], implicit=True)
            )
    return entries


def _summary(
    acl: AccessControlList, principal: Principal, granting: list[Entry], denying: list[Entry]
) -> str:
    who = "the anonymous searcher" if principal.user is None else f"user {principal.user!r}"
    if denying:
        reasons = "; ".join(e.describe() for e in denying)
        if granting:
            n = len(granting)
            return f"Denied to {who}: {reasons}. Deny wins over {n} allowing entr{_ies(n)}."
        return f"Denied to {who}: {reasons}."
    if granting:
        more = len(granting) - 1
        extra = f" (and {more} more entr{_ies(more)})" if more else ""
        return f"Allowed for {who}: {granting[0].describe()}{extra}."
    if acl.is_empty:
        return f"Not allowed for {who}: the list allows nobody, and an empty list grants nothing."
    return f"Not allowed for {who}: no entry in allow_users or allow_groups matches."


def _ies(count: int) -> str:
    return "y" if count == 1 else "ies"
