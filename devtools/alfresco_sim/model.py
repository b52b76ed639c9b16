"""Records held by the in-memory repository: nodes, permissions, people, groups, sites.

Plain mutable dataclasses guarded by the repository's lock; the HTTP layer never touches
them directly, it asks the repository for JSON-ready views.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from devtools.alfresco_sim.content_model import is_subtype

AccessStatus = Literal["ALLOWED", "DENIED"]
Visibility = Literal["PUBLIC", "MODERATED", "PRIVATE"]

_INVALID_NAME = re.compile(r"[\"*\\><?/:|]|\.$| $")


def format_timestamp(moment: datetime) -> str:
    """Alfresco's timestamp format: milliseconds and an offset without a colon."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"


def truncate_to_millis(moment: datetime) -> datetime:
    return moment.replace(microsecond=(moment.microsecond // 1000) * 1000)


def validate_name(name: str) -> str:
    """Reject names the API's Node.name pattern forbids (the real server refuses them too)."""
    if not name or _INVALID_NAME.search(name):
        raise ValueError(f"invalid Alfresco node name: {name!r}")
    return name


@dataclass(frozen=True)
class PermissionEntry:
    """One ACE: an authority granted (or denied) a permission name such as ``Consumer``."""

    authority_id: str
    name: str
    access_status: AccessStatus = "ALLOWED"

    @property
    def denied(self) -> bool:
        return self.access_status == "DENIED"

    def to_json(self) -> dict[str, str]:
        return {
            "authorityId": self.authority_id,
            "name": self.name,
            "accessStatus": self.access_status,
        }

    @classmethod
    def parse(cls, value: PermissionEntry | dict[str, Any] | tuple[str, ...]) -> PermissionEntry:
        """Accept an entry, an API-shaped dict, or ``(authority, name[, status])``."""
        if isinstance(value, PermissionEntry):
            return value
        if isinstance(value, dict):
            status = str(value.get("accessStatus", "ALLOWED"))
            authority, name = str(value["authorityId"]), str(value["name"])
        else:
            authority, name = value[0], value[1]
            status = value[2] if len(value) > 2 else "ALLOWED"
        if status not in ("ALLOWED", "DENIED"):
            raise ValueError(f"accessStatus must be ALLOWED or DENIED, not {status!r}")
        return cls(authority, name, "DENIED" if status == "DENIED" else "ALLOWED")


@dataclass
class Content:
    """A file's bytes plus the plain text the simulated search index holds for it."""

    data: bytes
    mime_type: str
    text: str
    encoding: str = "UTF-8"


@dataclass
class ArchiveRecord:
    """Why and when a node sits in the trashcan, and where it came from."""

    archived_at: datetime
    archived_by: str
    original_parent_id: str


@dataclass
class Node:
    id: str
    name: str
    node_type: str
    parent_id: str | None
    created_at: datetime
    created_by: str
    modified_at: datetime
    modified_by: str
    aspects: list[str] = field(default_factory=list)
    properties: dict[str, Any] = field(default_factory=dict)
    content: Content | None = None
    locally_set: list[PermissionEntry] = field(default_factory=list)
    inheritance_enabled: bool = True
    assoc_type: str = "cm:contains"
    changed_at: datetime | None = None
    """Last change of any kind (moves, ACLs): what the search index lag is measured from."""
    archive: ArchiveRecord | None = None

    @property
    def is_file(self) -> bool:
        return is_subtype(self.node_type, "cm:content")

    @property
    def is_folder(self) -> bool:
        return is_subtype(self.node_type, "cm:folder")

    @property
    def is_link(self) -> bool:
        return is_subtype(self.node_type, "cm:link")

    @property
    def is_locked(self) -> bool:
        return "cm:lockable" in self.aspects and "cm:lockType" in self.properties


@dataclass
class Person:
    id: str
    password: str
    first_name: str
    last_name: str
    email: str
    enabled: bool = True
    job_title: str = ""
    home_folder_id: str | None = None

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass
class Group:
    """A group and its direct members (user ids and ``GROUP_`` ids, in insertion order)."""

    id: str
    display_name: str
    description: str = ""
    zones: list[str] = field(default_factory=lambda: ["APP.DEFAULT", "AUTH.ALF"])
    members: list[str] = field(default_factory=list)


@dataclass
class Site:
    id: str
    guid: str
    title: str
    description: str
    visibility: Visibility
    preset: str = "site-dashboard"
