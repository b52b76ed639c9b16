"""The slice of Alfresco's content model (types, roles, mime names) the simulator needs.

AFTS ``TYPE:`` matches a type and its subtypes, ``isFile``/``isFolder`` follow from the
type hierarchy, and comments (``fm:post``) and data-list items are ``cm:content``
subtypes: a type-based crawl finds them, which is exactly the trap a connector must avoid.
"""

from __future__ import annotations

from typing import Final

TYPE_PARENTS: Final[dict[str, str | None]] = {
    "cm:cmobject": None,
    "cm:folder": "cm:cmobject",
    "cm:content": "cm:cmobject",
    "cm:link": "cm:cmobject",
    "app:filelink": "cm:link",
    "app:folderlink": "cm:link",
    "st:sites": "cm:folder",
    "st:site": "cm:folder",
    "fm:forum": "cm:folder",
    "fm:topic": "cm:folder",
    "fm:post": "cm:content",
    "dl:dataList": "cm:folder",
    "dl:dataListItem": "cm:content",
    "dl:task": "dl:dataListItem",
    "dl:issue": "dl:dataListItem",
    "ia:calendarEvent": "cm:cmobject",
    "lnk:link": "cm:cmobject",
}

# Kept apart from connectors/alfresco/acl.py's READ_ROLES on purpose: the simulator is the
# independent oracle the connector's ACL mapping is tested against, so it must not import it.
READ_ROLES: Final = frozenset(
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
    }
)
"""Permission names that include Read (Quarry's rule)."""

WRITE_ROLES: Final = frozenset(
    {
        "Write",
        "Editor",
        "Contributor",
        "Collaborator",
        "Coordinator",
        "SiteContributor",
        "SiteCollaborator",
        "SiteManager",
    }
)
MANAGE_ROLES: Final = frozenset({"Coordinator", "SiteManager"})

SITE_ROLES: Final = ("SiteManager", "SiteCollaborator", "SiteContributor", "SiteConsumer")
SETTABLE_ROLES: Final = ("Contributor", "Collaborator", "Coordinator", "Editor", "Consumer")

EVERYONE: Final = "GROUP_EVERYONE"
ADMINISTRATORS: Final = "GROUP_ALFRESCO_ADMINISTRATORS"

SITE_CONTAINERS: Final = (
    "documentLibrary",
    "wiki",
    "blog",
    "calendar",
    "discussions",
    "dataLists",
    "links",
    "surf-config",
)

MIME_TYPE_NAMES: Final[dict[str, str]] = {
    "text/plain": "Plain Text",
    "text/markdown": "Markdown",
    "text/html": "HTML",
    "text/csv": "Comma Separated Values (CSV)",
    "text/xml": "XML",
    "application/json": "JSON",
    "application/pdf": "Adobe PDF Document",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (
        "Microsoft Word 2007"
    ),
    "image/png": "PNG Image",
    "application/octet-stream": "Binary File (Octet Stream)",
}

DOCX_MIME: Final = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def is_subtype(node_type: str, ancestor: str) -> bool:
    """True when ``node_type`` is ``ancestor`` or derives from it (unknown types: cm:cmobject)."""
    current: str | None = node_type
    seen: set[str] = set()
    while current is not None and current not in seen:
        if current == ancestor:
            return True
        seen.add(current)
        current = TYPE_PARENTS.get(current, "cm:cmobject" if current != "cm:cmobject" else None)
    return False


def site_role_group(site_id: str, role: str) -> str:
    """The authority id of a site's role group, e.g. ``GROUP_site_eng_SiteManager``."""
    return f"GROUP_site_{site_id}_{role}"


def mime_type_name(mime_type: str) -> str:
    return MIME_TYPE_NAMES.get(mime_type, mime_type)
