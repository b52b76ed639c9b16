"""Changes tests apply to the repository, with the side effects the real server has.

Content and property edits and renames bump ``modifiedAt``; moves keep the id and, as in
Alfresco, leave ``modifiedAt`` alone (paths change silently); permission changes touch no
timestamp at all, so "modified since" never reveals them; deletes go to the trashcan with
``archivedAt``, and purges leave no trace. Every public method takes the repository lock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from devtools.alfresco_sim.model import (
    ArchiveRecord,
    Content,
    Node,
    PermissionEntry,
    validate_name,
)
from devtools.alfresco_sim.store import RepositoryStore
from devtools.alfresco_sim.text_index import html_to_text, plain_text

PermissionSpec = PermissionEntry | dict[str, Any] | tuple[str, ...]


def _as_bytes(data: bytes | str) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else data


class NodeMutations(RepositoryStore):
    """Thread-safe changes to nodes; each returns ids, never live records."""

    # -- creation ------------------------------------------------------------------------

    def create_node(
        self,
        parent_id: str,
        name: str,
        node_type: str,
        *,
        by: str = "admin",
        created_at: datetime | None = None,
        modified_at: datetime | None = None,
        modified_by: str | None = None,
        aspects: Iterable[str] = (),
        properties: Mapping[str, Any] | None = None,
        content: Content | None = None,
        locally_set: Iterable[PermissionSpec] = (),
        inheritance_enabled: bool = True,
        assoc_type: str = "cm:contains",
    ) -> Node:
        """Low-level creation used by the generator (explicit timestamps) and by tests."""
        with self.lock:
            created = created_at or self.now()
            node = Node(
                id=self.new_id(),
                name=validate_name(name),
                node_type=node_type,
                parent_id=parent_id,
                created_at=created,
                created_by=by,
                modified_at=modified_at or created,
                modified_by=modified_by or by,
                aspects=["cm:auditable", *aspects],
                properties=dict(properties or {}),
                content=content,
                locally_set=[PermissionEntry.parse(e) for e in locally_set],
                inheritance_enabled=inheritance_enabled,
                assoc_type=assoc_type,
            )
            return self.insert(node)

    def add_folder(
        self, parent_id: str, name: str, *, by: str = "admin", title: str | None = None
    ) -> str:
        properties = {} if title is None else {"cm:title": title}
        aspects = ["cm:titled"] if title is not None else []
        with self.lock:
            self._require_folder(parent_id)
            return self.create_node(
                parent_id, name, "cm:folder", by=by, aspects=aspects, properties=properties
            ).id

    def add_file(
        self,
        parent_id: str,
        name: str,
        data: bytes | str,
        mime_type: str = "text/plain",
        *,
        by: str = "admin",
        title: str | None = None,
        description: str | None = None,
        text: str | None = None,
    ) -> str:
        """Add a ``cm:content`` node; ``text`` is what search indexes for binary formats."""
        raw = _as_bytes(data)
        properties: dict[str, Any] = {"cm:versionLabel": "1.0", "cm:versionType": "MAJOR"}
        aspects = ["cm:versionable"]
        if title is not None or description is not None:
            aspects.append("cm:titled")
            properties.update({"cm:title": title or "", "cm:description": description or ""})
        content = Content(raw, mime_type, text if text is not None else plain_text(raw, mime_type))
        with self.lock:
            self._require_folder(parent_id)
            node = self.create_node(
                parent_id,
                name,
                "cm:content",
                by=by,
                aspects=aspects,
                properties=properties,
                content=content,
            )
            return node.id

    def add_wiki_page(
        self, site_id: str, title: str, html: str, *, by: str = "admin", at: datetime | None = None
    ) -> str:
        """A Share wiki page: HTML ``cm:content`` named after its title, title in cm:title."""
        with self.lock:
            return self.create_node(
                self.container_id(site_id, "wiki"),
                title.replace(" ", "_"),
                "cm:content",
                by=by,
                created_at=at,
                aspects=["cm:titled", "cm:versionable"],
                properties={"cm:title": title, "cm:versionLabel": "1.0"},
                content=Content(_as_bytes(html), "text/html", html_to_text(html)),
            ).id

    def add_blog_post(
        self, site_id: str, title: str, html: str, *, by: str = "admin", at: datetime | None = None
    ) -> str:
        """A published Share blog post (``post-<millis>_<n>``, titled, HTML body)."""
        with self.lock:
            created = at or self.now()
            name = f"post-{int(created.timestamp() * 1000)}_{len(self.nodes)}"
            return self.create_node(
                self.container_id(site_id, "blog"),
                name,
                "cm:content",
                by=by,
                created_at=created,
                aspects=["cm:titled", "blg:releaseDetails", "cm:taggable"],
                properties={"cm:title": title, "blg:released": created.isoformat()},
                content=Content(_as_bytes(html), "text/html", html_to_text(html)),
            ).id

    def add_comment(
        self, node_id: str, text: str, *, by: str = "admin", at: datetime | None = None
    ) -> str:
        """A comment: an ``fm:post`` under the node's hidden discussion forum."""
        with self.lock:
            node = self.get(node_id)
            created = at or self.now()
            topic_id = self._comments_topic(node, by, created)
            html = f"<p>{text}</p>"
            return self.create_node(
                topic_id,
                f"comment-{int(created.timestamp() * 1000)}_{len(self.nodes)}",
                "fm:post",
                by=by,
                created_at=created,
                content=Content(_as_bytes(html), "text/html", text),
            ).id

    def _comments_topic(self, node: Node, by: str, at: datetime) -> str:
        for forum in self.child_nodes(node.id):
            if forum.assoc_type == "fm:discussion":
                return next(t.id for t in self.child_nodes(forum.id) if t.name == "Comments")
        if "fm:discussable" not in node.aspects:
            node.aspects.append("fm:discussable")
        forum = self.create_node(
            node.id, "discussion", "fm:forum", by=by, created_at=at, assoc_type="fm:discussion"
        )
        return self.create_node(forum.id, "Comments", "fm:topic", by=by, created_at=at).id

    # -- edits ---------------------------------------------------------------------------

    def update_content(
        self,
        node_id: str,
        data: bytes | str,
        mime_type: str | None = None,
        *,
        by: str = "admin",
        text: str | None = None,
    ) -> None:
        raw = _as_bytes(data)
        with self.lock:
            node = self.get(node_id)
            if not node.is_file:
                raise ValueError(f"node {node_id} is not a file")
            mime = mime_type or (node.content.mime_type if node.content else "text/plain")
            node.content = Content(raw, mime, text if text is not None else plain_text(raw, mime))
            self._touch(node, by)

    def update_properties(
        self, node_id: str, properties: Mapping[str, Any], *, by: str = "admin"
    ) -> None:
        """Merge properties (a ``None`` value removes one); bumps ``modifiedAt``."""
        with self.lock:
            node = self.get(node_id)
            for key, value in properties.items():
                if value is None:
                    node.properties.pop(key, None)
                else:
                    node.properties[key] = value
            if {"cm:title", "cm:description"} & set(properties) and "cm:titled" not in node.aspects:
                node.aspects.append("cm:titled")
            self._touch(node, by)

    def rename(self, node_id: str, new_name: str, *, by: str = "admin") -> None:
        with self.lock:
            node = self.get(node_id)
            if node.parent_id is not None:
                self.ensure_unique_name(node.parent_id, validate_name(new_name), ignore=node_id)
            node.name = new_name
            self._touch(node, by)
            self._mark_changed(node_id)

    def move(
        self, node_id: str, target_parent_id: str, *, new_name: str | None = None, by: str = "admin"
    ) -> None:
        """Move (and optionally rename) keeping the id; only a rename bumps ``modifiedAt``."""
        with self.lock:
            node = self.get(node_id)
            self._require_folder(target_parent_id)
            if target_parent_id == node_id or any(
                d.id == target_parent_id for d in self.descendants(node_id)
            ):
                raise ValueError("cannot move a node into itself or its descendants")
            name = validate_name(new_name) if new_name is not None else node.name
            self.ensure_unique_name(target_parent_id, name, ignore=node_id)
            if node.parent_id is not None:
                self.children[node.parent_id].remove(node_id)
            self.children[target_parent_id].append(node_id)
            node.parent_id = target_parent_id
            if new_name is not None and new_name != node.name:
                node.name = new_name
                self._touch(node, by)
            self._mark_changed(node_id)
            self.bump_transaction()

    def delete(self, node_id: str, *, by: str = "admin") -> None:
        """Move a node and its subtree to the trashcan (``GET /deleted-nodes`` lists the top)."""
        with self.lock:
            node = self.get(node_id)
            if node.parent_id is None or node.node_type in ("st:site", "st:sites"):
                raise ValueError(f"node {node_id} cannot be deleted through the node API")
            self.children[node.parent_id].remove(node_id)
            for item in [node, *self.descendants(node_id)]:
                self.archive[item.id] = self.nodes.pop(item.id)
            node.archive = ArchiveRecord(self.now(), by, node.parent_id)
            self.bump_transaction()

    def restore(self, node_id: str) -> None:
        with self.lock:
            node = self.archive[node_id]
            if node.archive is None or node.parent_id not in self.nodes:
                raise ValueError(f"node {node_id} is not restorable")
            self.ensure_unique_name(node.parent_id, node.name)
            self.children[node.parent_id].append(node_id)
            for item in [node, *self.descendants(node_id)]:
                self.nodes[item.id] = self.archive.pop(item.id)
            node.archive = None
            self._mark_changed(node_id)
            self.bump_transaction()

    def purge(self, node_id: str) -> None:
        """Remove a trashcan item for good: nothing in the API remembers it afterwards."""
        with self.lock:
            node = self.archive[node_id]
            if node.archive is None:
                raise ValueError(f"node {node_id} is not a trashcan item")
            for item in [node, *self.descendants(node_id)]:
                self.archive.pop(item.id, None)
                self.children.pop(item.id, None)
            self.bump_transaction()

    def set_permissions(
        self,
        node_id: str,
        *,
        locally_set: Sequence[PermissionSpec] | None = None,
        inheritance_enabled: bool | None = None,
    ) -> None:
        """Replace locally set entries and/or toggle inheritance; no ``modifiedAt`` changes."""
        with self.lock:
            node = self.get(node_id)
            if locally_set is not None:
                node.locally_set = [PermissionEntry.parse(e) for e in locally_set]
            if inheritance_enabled is not None:
                node.inheritance_enabled = inheritance_enabled
            self.bump_transaction()

    # -- helpers -------------------------------------------------------------------------

    def container_id(self, site_id: str, component: str) -> str:
        """The folder id of a site container such as ``documentLibrary``."""
        with self.lock:
            site_node = self.get(self.sites[site_id].guid)
            for child in self.child_nodes(site_node.id):
                if child.name == component:
                    return child.id
            raise KeyError(f"site {site_id} has no container {component}")

    def _require_folder(self, node_id: str) -> None:
        if not self.get(node_id).is_folder:
            raise ValueError(f"node {node_id} is not a folder")

    def _touch(self, node: Node, by: str) -> None:
        node.modified_at = self.now()
        node.modified_by = by
        node.changed_at = node.modified_at
        self.bump_transaction()

    def _mark_changed(self, node_id: str) -> None:
        moment = self.now()
        for item in [self.get(node_id), *self.descendants(node_id)]:
            item.changed_at = moment
