"""Quarry's read rule over Alfresco ACEs: deny wins, and nothing is granted by default.

A user may read a node when an ALLOWED read-granting entry in force names the user, one of
the user's groups (transitively) or GROUP_EVERYONE, and no DENIED entry in force names the
user or any of those groups. "In force" means the node's own entries plus those inherited
from its ancestors up to the first inheritance break.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from devtools.alfresco_sim.content_model import (
    EVERYONE,
    MANAGE_ROLES,
    READ_ROLES,
    WRITE_ROLES,
)
from devtools.alfresco_sim.model import Group, PermissionEntry


def transitive_groups(member_id: str, groups: Mapping[str, Group]) -> set[str]:
    """Every group ``member_id`` belongs to, directly or through nested groups (cycles safe)."""
    parents: dict[str, list[str]] = {}
    for group in groups.values():
        for member in group.members:
            parents.setdefault(member, []).append(group.id)
    found: set[str] = set()
    pending = list(parents.get(member_id, []))
    while pending:
        group_id = pending.pop()
        if group_id not in found:
            found.add(group_id)
            pending.extend(parents.get(group_id, []))
    return found


def authorities_of(user_id: str, groups: Mapping[str, Group]) -> frozenset[str]:
    """The user id, the user's transitive groups and GROUP_EVERYONE."""
    return frozenset({user_id, EVERYONE} | transitive_groups(user_id, groups))


# The simulator keeps its own permission tables on purpose: it is the independent oracle the
# connector's mapping (connectors/alfresco/acl.py) is tested against, so neither copies the other.
_NOT_READ: frozenset[str] = frozenset(
    {
        "Write",
        "WriteProperties",
        "WriteContent",
        "Delete",
        "DeleteNode",
        "DeleteChildren",
        "AddChildren",
        "CreateChildren",
        "LinkChildren",
        "CreateAssociations",
        "DeleteAssociations",
        "Execute",
        "ReadPermissions",
        "ChangePermissions",
        "TakeOwnership",
        "SetOwner",
        "Lock",
        "Unlock",
        "CheckOut",
        "CheckIn",
        "CancelCheckOut",
    }
)


def grants(
    entries: Iterable[PermissionEntry],
    authorities: frozenset[str],
    roles: frozenset[str],
    denied_by: Callable[[str], bool] | None = None,
) -> bool:
    """Deny-wins evaluation of ``entries`` for a permission satisfied by any of ``roles``.

    A DENIED entry takes the permission away when ``denied_by(name)`` holds (always when
    that is None)."""
    allowed = False
    for entry in entries:
        if entry.authority_id not in authorities:
            continue
        if entry.denied:
            if denied_by is None or denied_by(entry.name):
                return False
            continue
        if entry.name in roles:
            allowed = True
    return allowed


def grants_read(entries: Iterable[PermissionEntry], authorities: frozenset[str]) -> bool:
    """Alfresco's meaning: only a denied permission that includes Read (or one unknown to the
    oracle, failing closed) hides; denying Delete or Write leaves the node readable."""
    return grants(entries, authorities, READ_ROLES | {"All"}, lambda name: name not in _NOT_READ)


def allowable_operations(
    entries: list[PermissionEntry], authorities: frozenset[str], *, admin: bool, folder: bool
) -> list[str]:
    """What the caller could do to the node, as ``include=allowableOperations`` reports it."""
    operations: list[str] = []
    if admin or grants(entries, authorities, WRITE_ROLES):
        operations += ["delete", "update"]
        if folder:
            operations.append("create")
    if admin or grants(entries, authorities, MANAGE_ROLES):
        operations.append("updatePermissions")
    return operations


def merge_inherited(
    parent_local: list[PermissionEntry], parent_inherited: list[PermissionEntry]
) -> list[PermissionEntry]:
    """Entries a child inherits: the parent's own first, then what the parent inherited."""
    merged: list[PermissionEntry] = []
    for entry in [*parent_local, *parent_inherited]:
        if entry not in merged:
            merged.append(entry)
    return merged
