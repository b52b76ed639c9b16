"""Alfresco ``permissions`` → Quarry ``AccessControlList``, failing closed.

Quarry's rule (ALFRESCO-NOTES, mirrored by ``AccessControlList.permits``): an ALLOWED entry in
force whose permission includes Read grants; a DENIED entry in force denies reading when its
permission includes Read, as Alfresco means it: denying Delete or Write to everyone leaves the
document readable. A permission name Quarry does not know denies (fail closed: a missed deny
would leak a document while a spurious one only hides it). Entries in force are the node's
locally set ones plus, unless inheritance is disabled, the inherited ones (the API already
resolves those up the tree).
"""

from __future__ import annotations

import hashlib
from typing import Any

from acl import AccessControlList

READ_ROLES = frozenset(
    {
        "Read",
        "Consumer",
        "Editor",
        "Contributor",
        "Collaborator",
        "Coordinator",
        "SiteConsumer",
        "SiteContributor",
        "SiteCollaborator",
        "SiteManager",
        "All",
    }
)
"""Permission names that include Read. Anything else (Write, AddChildren...) grants nothing."""

WITHOUT_READ = frozenset(
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
"""Alfresco's permissions that do not include Read: denying one of them hides nothing. Every
other name, Read's parts (ReadContent...) and names unknown to Quarry included, hides."""


def denies_read(permission: str) -> bool:
    """Whether a DENIED entry for ``permission`` takes away the right to read."""
    return permission not in WITHOUT_READ


GROUP_PREFIX = "GROUP_"
ROLE_PREFIX = "ROLE_"
"""Dynamic authorities (ROLE_OWNER, ROLE_LOCK_OWNER...): not mapped, so owners get no extra
grant from them in Quarry (fail closed)."""


class MalformedPermissions(ValueError):
    """The node's ``permissions`` object is present but not shaped as the API defines it."""


def _entries(permissions: dict[str, Any], key: str) -> list[tuple[str, str, str]]:
    raw = permissions.get(key) or []
    if not isinstance(raw, list):
        raise MalformedPermissions(f"permissions.{key} is not a list")
    entries = []
    for item in raw:
        if not isinstance(item, dict):
            raise MalformedPermissions(f"permissions.{key} has a non-object entry")
        authority, name = item.get("authorityId"), item.get("name")
        status = item.get("accessStatus", "ALLOWED")
        if not (isinstance(authority, str) and authority and isinstance(name, str)):
            raise MalformedPermissions(f"permissions.{key} has an entry without authority/name")
        if status not in ("ALLOWED", "DENIED"):
            raise MalformedPermissions(f"permissions.{key} has accessStatus {status!r}")
        entries.append((authority, name, status))
    return entries


def entries_in_force(permissions: Any) -> list[tuple[str, str, str]] | None:
    """(authority, permission, status) in force, or None when permissions are missing."""
    if permissions is None:
        return None
    if not isinstance(permissions, dict):
        raise MalformedPermissions("permissions is not an object")
    inheritance = permissions.get("isInheritanceEnabled", True)
    if not isinstance(inheritance, bool):
        raise MalformedPermissions("permissions.isInheritanceEnabled is not a boolean")
    entries = _entries(permissions, "locallySet")
    if inheritance:
        entries += _entries(permissions, "inherited")
    return entries


def to_acl(permissions: Any) -> AccessControlList | None:
    """The node's ACL; None (visible to nobody) when the API returned no permissions.

    Raises ``MalformedPermissions`` when they are present but unreadable: the caller turns
    that into a ``Failure`` rather than guessing.
    """
    entries = entries_in_force(permissions)
    if entries is None:
        return None
    allow_users: set[str] = set()
    allow_groups: set[str] = set()
    deny_users: set[str] = set()
    deny_groups: set[str] = set()
    for authority, name, status in entries:
        if authority.startswith(ROLE_PREFIX):  # ROLE_OWNER etc. name no searcher: skip
            continue
        is_group = authority.startswith(GROUP_PREFIX)
        if status == "DENIED":
            if denies_read(name):
                (deny_groups if is_group else deny_users).add(authority)
        elif name in READ_ROLES:
            (allow_groups if is_group else allow_users).add(authority)
    return AccessControlList(
        allow_users=sorted(allow_users),
        allow_groups=sorted(allow_groups),
        deny_users=sorted(deny_users),
        deny_groups=sorted(deny_groups),
    )


def fingerprint(acl: AccessControlList | None) -> str:
    """Short stable digest of an ACL, to notice permission changes between passes."""
    text = "none" if acl is None else acl.model_dump_json()
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
