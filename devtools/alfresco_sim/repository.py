"""The in-memory Alfresco repository: state, mutations, and the questions tests ask of it.

``readable_by`` is the oracle of the end-to-end tests: it applies Quarry's rule (see
``permissions``) to every live node, with no administrator override, because Quarry's index
only knows the ACLs the API reports. The HTTP API itself lets administrators see everything,
as the real server does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from devtools.alfresco_sim.content_model import EVERYONE, SITE_ROLES, site_role_group
from devtools.alfresco_sim.directory import DirectoryMutations
from devtools.alfresco_sim.model import Node, PermissionEntry, Site
from devtools.alfresco_sim.permissions import grants_read, merge_inherited

INDEXED_CONTAINERS = frozenset({"documentLibrary", "wiki", "blog"})


class Repository(DirectoryMutations):
    """Thread-safe: every public method takes ``lock``; hold it yourself to batch reads."""

    # -- the oracle ----------------------------------------------------------------------

    def readable_by(self, user_id: str) -> set[str]:
        """Ids of live nodes Quarry's rule lets ``user_id`` read (no admin override)."""
        with self.lock:
            authorities = self.authorities(user_id)
            readable: set[str] = set()
            pending: list[tuple[Node, list[PermissionEntry]]] = [
                (self.get(self.company_home_id), [])
            ]
            while pending:
                node, parent_inherited = pending.pop()
                inherited = parent_inherited if node.inheritance_enabled else []
                if grants_read([*node.locally_set, *inherited], authorities):
                    readable.add(node.id)
                passed_down = merge_inherited(node.locally_set, inherited)
                pending.extend((child, passed_down) for child in self.child_nodes(node.id))
            return readable

    def indexable_ids(self) -> set[str]:
        """Documents a Quarry crawl should index: plain ``cm:content`` (not comments, data-list
        items or surf-config files) in site documentLibrary/wiki/blog containers or under
        Shared."""
        with self.lock:
            found: set[str] = set()
            for node in self.nodes.values():
                if node.node_type != "cm:content":
                    continue
                ancestors = {a.id for a in self.ancestors(node)}
                if self.shared_id in ancestors or self.container_of(node) in INDEXED_CONTAINERS:
                    found.add(node.id)
            return found

    # -- API-side access -----------------------------------------------------------------

    def can_read(self, user_id: str, node: Node) -> bool:
        """The HTTP API's check: administrators bypass ACLs, everyone else gets Quarry's rule."""
        with self.lock:
            if self.is_admin(user_id):
                return True
            return grants_read(self.entries_in_force(node), self.authorities(user_id))

    def reader(self, user_id: str) -> Callable[[Node], bool]:
        """``can_read`` with the caller's authorities worked out once, for list filtering."""
        with self.lock:
            if self.is_admin(user_id):
                return lambda node: True
            authorities = self.authorities(user_id)
        return lambda node: grants_read(self.entries_in_force(node), authorities)

    def resolve(self, node_ref: str, user_id: str) -> Node:
        """A live node by id or alias (``-root-``, ``-shared-``, ``-my-``); KeyError if none."""
        with self.lock:
            if node_ref == "-root-":
                return self.get(self.company_home_id)
            if node_ref == "-shared-":
                return self.get(self.shared_id)
            if node_ref == "-my-":
                home = self.people[user_id].home_folder_id
                if home is None:
                    raise KeyError(node_ref)
                return self.get(home)
            return self.get(node_ref.removeprefix("workspace://SpacesStore/"))

    def resolve_relative(self, node: Node, relative_path: str) -> Node:
        """Follow ``relativePath`` (names separated by ``/``) down from ``node``."""
        with self.lock:
            current = node
            for name in (part for part in relative_path.split("/") if part):
                current = next(
                    c
                    for c in self.child_nodes(current.id)
                    if c.name == name and c.assoc_type == "cm:contains"
                )
            return current

    def comments_of(self, node: Node) -> list[Node]:
        """Comment posts of a node, newest first."""
        with self.lock:
            posts: list[Node] = []
            for forum in self.child_nodes(node.id):
                if forum.assoc_type == "fm:discussion":
                    for topic in self.child_nodes(forum.id):
                        posts.extend(
                            p for p in self.child_nodes(topic.id) if p.node_type == "fm:post"
                        )
            return sorted(posts, key=lambda p: (p.created_at, p.id), reverse=True)

    def direct_groups(self, member_id: str) -> list[str]:
        with self.lock:
            return sorted(g.id for g in self.groups.values() if member_id in g.members)

    def site_role(self, site_id: str, user_id: str) -> str | None:
        """The caller's site role through (possibly nested) role-group membership."""
        with self.lock:
            authorities = self.authorities(user_id)
            for role in SITE_ROLES:
                if site_role_group(site_id, role) in authorities:
                    return role
            return None

    def site_visible(self, site: Site, user_id: str) -> bool:
        """Private sites are invisible to non-members (the real server answers 404)."""
        if site.visibility != "PRIVATE" or self.is_admin(user_id):
            return True
        return self.site_role(site.id, user_id) is not None

    def check_password(self, user_id: str, password: str) -> bool:
        with self.lock:
            person = self.people.get(user_id)
            return person is not None and person.enabled and person.password == password

    # -- documentation -------------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        """Who is who: users (with passwords), groups, sites and landmark nodes."""
        with self.lock:
            return {
                "seed": self.seed,
                "users": {
                    p.id: {
                        "password": p.password,
                        "displayName": p.display_name,
                        "enabled": p.enabled,
                        "groups": self.direct_groups(p.id),
                        "allGroups": sorted(self.authorities(p.id) - {p.id, EVERYONE}),
                    }
                    for p in self.people.values()
                },
                "groups": {g.id: list(g.members) for g in self.groups.values()},
                "sites": {
                    s.id: {"title": s.title, "visibility": s.visibility, "guid": s.guid}
                    for s in self.sites.values()
                },
                "landmarks": dict(self.landmarks),
                "companyHomeId": self.company_home_id,
                "sharedId": self.shared_id,
            }
