"""JSON shapes of the Public REST API v1 (entries, lists, pagination) built from records.

Optional fields appear only when asked for with ``include`` (or always, for the fields
``GET /nodes/{id}`` returns by default) and are left out rather than sent as ``null``:
Swagger 2.0 has no nullable, and the real server omits absent values.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from devtools.alfresco_sim.content_model import (
    SETTABLE_ROLES,
    SITE_ROLES,
    mime_type_name,
)
from devtools.alfresco_sim.model import (
    Group,
    Node,
    Person,
    Site,
    format_timestamp,
)
from devtools.alfresco_sim.permissions import allowable_operations
from devtools.alfresco_sim.store import RepositoryStore

T = TypeVar("T")
Json = dict[str, Any]

NODE_INCLUDES = frozenset(
    {
        "allowableOperations",
        "aspectNames",
        "association",
        "isLink",
        "isFavorite",
        "isDirectLinkEnabled",
        "isLocked",
        "path",
        "properties",
        "permissions",
        "definition",
    }
)


def paginate(items: Sequence[T], skip_count: int, max_items: int) -> tuple[list[T], Json]:
    """One page of ``items`` and the ``pagination`` object describing it."""
    page = list(items[skip_count : skip_count + max_items])
    pagination = {
        "count": len(page),
        "hasMoreItems": skip_count + len(page) < len(items),
        "totalItems": len(items),
        "skipCount": skip_count,
        "maxItems": max_items,
    }
    return page, pagination


def list_body(entries: Iterable[Json], pagination: Json, **extra: Any) -> Json:
    return {"list": {"pagination": pagination, "entries": [{"entry": e} for e in entries], **extra}}


def restrict_fields(entry: Json, fields: Sequence[str]) -> Json:
    """Apply the ``fields`` parameter: keep only the named top-level fields."""
    return entry if not fields else {k: v for k, v in entry.items() if k in fields}


class Views:
    """Renders records as the caller sees them (``allowableOperations``, site ``role``)."""

    def __init__(self, store: RepositoryStore, caller: str, *, short_paths: bool = False) -> None:
        self.store = store
        self.caller = caller
        # The Search API's PathElement has only id and name.
        self.short_paths = short_paths
        self._authorities = store.authorities(caller)
        self._admin = store.is_admin(caller)

    def user_info(self, user_id: str) -> Json:
        person = self.store.people.get(user_id)
        return {"displayName": person.display_name if person else user_id, "id": user_id}

    def node(
        self, node: Node, include: Iterable[str] = (), *, full: bool = False, child: bool = False
    ) -> Json:
        """A Node: ``full`` adds what GET /nodes/{id} always returns (aspects, properties)."""
        wanted = set(include)
        if full:
            wanted |= {"aspectNames", "properties"}
        entry: Json = {
            "id": node.id,
            "name": node.name,
            "nodeType": node.node_type,
            "isFolder": node.is_folder,
            "isFile": node.is_file,
            "createdAt": format_timestamp(node.created_at),
            "createdByUser": self.user_info(node.created_by),
            "modifiedAt": format_timestamp(node.modified_at),
            "modifiedByUser": self.user_info(node.modified_by),
        }
        if node.parent_id is not None:
            entry["parentId"] = node.parent_id
        if node.content is not None:
            entry["content"] = {
                "mimeType": node.content.mime_type,
                "mimeTypeName": mime_type_name(node.content.mime_type),
                "sizeInBytes": len(node.content.data),
                "encoding": node.content.encoding,
            }
        if "aspectNames" in wanted:
            entry["aspectNames"] = list(node.aspects)
        if "properties" in wanted and node.properties:
            entry["properties"] = dict(node.properties)
        if "isLink" in wanted:
            entry["isLink"] = node.is_link
        if "isLocked" in wanted:
            entry["isLocked"] = node.is_locked
        if "isFavorite" in wanted:
            entry["isFavorite"] = False
        if "isDirectLinkEnabled" in wanted and node.is_file:
            entry["isDirectLinkEnabled"] = False
        if "path" in wanted:
            entry["path"] = self.path(node)
        if "permissions" in wanted:
            entry["permissions"] = self.permissions(node)
        if "allowableOperations" in wanted:
            entry["allowableOperations"] = allowable_operations(
                self.store.entries_in_force(node),
                self._authorities,
                admin=self._admin,
                folder=node.is_folder,
            )
        if child and "association" in wanted:
            entry["association"] = {"assocType": node.assoc_type, "isPrimary": True}
        return entry

    def path(self, node: Node) -> Json:
        ancestors = self.store.ancestors(node)
        return {
            "name": "/" + "/".join(a.name for a in ancestors),
            "isComplete": True,
            "elements": [self._path_element(a) for a in ancestors],
        }

    def _path_element(self, node: Node) -> Json:
        element: Json = {"id": node.id, "name": node.name}
        if not self.short_paths:
            element.update({"nodeType": node.node_type, "aspectNames": list(node.aspects)})
        return element

    def permissions(self, node: Node) -> Json:
        settable = list(SETTABLE_ROLES)
        if self.store.site_id_of(node) is not None:
            settable += list(SITE_ROLES)
        info: Json = {"isInheritanceEnabled": node.inheritance_enabled}
        inherited = self.store.inherited_entries(node)
        if inherited:
            info["inherited"] = [e.to_json() for e in inherited]
        if node.locally_set:
            info["locallySet"] = [e.to_json() for e in node.locally_set]
        info["settable"] = settable
        return info

    def deleted_node(self, node: Node, include: Iterable[str] = ()) -> Json:
        entry = self.node(node, include)
        if node.archive is not None:
            entry["archivedAt"] = format_timestamp(node.archive.archived_at)
            entry["archivedByUser"] = self.user_info(node.archive.archived_by)
        return entry

    def person(self, person: Person, include: Iterable[str] = ()) -> Json:
        wanted = set(include)
        entry: Json = {
            "id": person.id,
            "firstName": person.first_name,
            "lastName": person.last_name,
            "displayName": person.display_name,
            "email": person.email,
            "enabled": person.enabled,
            "emailNotificationsEnabled": True,
            "company": {},
        }
        if person.job_title:
            entry["jobTitle"] = person.job_title
        if "aspectNames" in wanted:
            entry["aspectNames"] = ["cm:ownable", "cm:preferences"]
        if "capabilities" in wanted:
            entry["capabilities"] = {
                "isAdmin": self.store.is_admin(person.id),
                "isGuest": False,
                "isMutable": True,
            }
        return entry

    def group(self, group: Group, include: Iterable[str] = ()) -> Json:
        wanted = set(include)
        parents = sorted(g.id for g in self.store.groups.values() if group.id in g.members)
        entry: Json = {"id": group.id, "displayName": group.display_name, "isRoot": not parents}
        if "description" in wanted and group.description:
            entry["description"] = group.description
        if "parentIds" in wanted:
            entry["parentIds"] = parents
        if "zones" in wanted:
            entry["zones"] = list(group.zones)
        if "hasSubgroups" in wanted:
            entry["hasSubgroups"] = any(m.startswith("GROUP_") for m in group.members)
        return entry

    def site(self, site: Site, role: str | None) -> Json:
        entry: Json = {
            "id": site.id,
            "guid": site.guid,
            "title": site.title,
            "description": site.description,
            "visibility": site.visibility,
            "preset": site.preset,
        }
        if role is not None:
            entry["role"] = role
        return entry

    def comment(self, post: Node, *, can_edit: bool) -> Json:
        author = self.store.people.get(post.created_by)
        editor = self.store.people.get(post.modified_by)
        text = post.content.text if post.content else ""
        return {
            "id": post.id,
            "title": "",
            "content": text,
            "createdBy": self.person(author) if author else self._unknown_person(post.created_by),
            "createdAt": format_timestamp(post.created_at),
            "edited": post.modified_at != post.created_at,
            "modifiedBy": self.person(editor) if editor else self._unknown_person(post.modified_by),
            "modifiedAt": format_timestamp(post.modified_at),
            "canEdit": can_edit,
            "canDelete": can_edit,
        }

    @staticmethod
    def _unknown_person(user_id: str) -> Json:
        return {"id": user_id, "firstName": user_id, "email": "", "enabled": False}
