"""What the crawl walks, and which nodes in it are documents.

A crawl walks *roots*: the ``documentLibrary``/``wiki``/``blog`` containers of the configured
sites (never calendar, discussions, dataLists, links or surf-config) and, on request, the
Shared files folder. Inside them only plain folders are descended into and only content
nodes that are not Share/system machinery are documents.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

SHARED = "shared"
SHARED_PREFIX = "Shared"
COMMENT = "comment"

_SYSTEM_PREFIXES = ("fm:", "dl:", "ia:", "lnk:", "st:", "sys:", "surf:", "rn:", "smf:")
"""Forums and comments, data lists, calendar events, links, site and system types."""
_SYSTEM_TYPES = frozenset({"cm:systemfolder", "cm:thumbnail", "cm:failedThumbnail"})
_HIDDEN_ASPECTS = frozenset({"sys:hidden"})


class Root(BaseModel):
    """A folder to walk and where its content sits (``rel``: path relative to the site)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    folder_id: str
    rel: str
    category: str
    """``documentLibrary``, ``wiki``, ``blog`` or ``shared``."""
    site: str | None = None


def _is_system(entry: dict[str, Any]) -> bool:
    node_type = entry.get("nodeType")
    if not isinstance(node_type, str) or node_type in _SYSTEM_TYPES:
        return True
    if node_type.startswith(_SYSTEM_PREFIXES):
        return True
    aspects = entry.get("aspectNames") or []
    return isinstance(aspects, list) and bool(_HIDDEN_ASPECTS.intersection(aspects))


def is_walkable_folder(entry: dict[str, Any]) -> bool:
    return entry.get("isFolder") is True and not _is_system(entry)


def is_document(entry: dict[str, Any]) -> bool:
    return entry.get("isFile") is True and not _is_system(entry)


def ancestor_ids(entry: dict[str, Any]) -> list[str]:
    """Ids on the node's ``path`` (``include=path``), nearest last."""
    path = entry.get("path")
    elements = path.get("elements") if isinstance(path, dict) else None
    if not isinstance(elements, list):
        return []
    return [str(e["id"]) for e in elements if isinstance(e, dict) and "id" in e]
