"""Storage, identity, time and tree navigation shared by the repository's reads and writes.

Everything here assumes the caller holds ``self.lock``; the public methods of
``Repository`` take it. Node ids come from a seeded generator and timestamps from a clock
that never goes backwards, so a seed always yields the same repository and every change
gets a ``modifiedAt`` later than anything before it.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

from devtools.alfresco_sim.content_model import ADMINISTRATORS
from devtools.alfresco_sim.model import (
    Group,
    Node,
    PermissionEntry,
    Person,
    Site,
    truncate_to_millis,
)
from devtools.alfresco_sim.permissions import authorities_of, merge_inherited

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


class RepositoryStore:
    """The repository's state and the lookups every other part builds on."""

    def __init__(self, *, seed: int = 7, clock: Clock = system_clock) -> None:
        self.lock = threading.RLock()
        self.seed = seed
        self._rng = random.Random(f"alfresco-simulator-ids:{seed}")
        self._clock = clock
        self._last_time: datetime | None = None
        self.nodes: dict[str, Node] = {}
        self.archive: dict[str, Node] = {}
        self.children: dict[str, list[str]] = {}
        self.people: dict[str, Person] = {}
        self.groups: dict[str, Group] = {}
        self.sites: dict[str, Site] = {}
        self.landmarks: dict[str, str] = {}
        """Named nodes of the generated repository (``"engineering.security_folder"``)."""
        self.transaction = 1
        self.company_home_id = ""
        self.shared_id = ""
        self.sites_folder_id = ""
        self.user_homes_id = ""
        self.repository_id = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    # -- identity and time -------------------------------------------------------------

    def new_id(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def now(self) -> datetime:
        """The clock, at millisecond precision and strictly after the last value handed out."""
        moment = truncate_to_millis(self._clock().astimezone(UTC))
        if self._last_time is not None and moment <= self._last_time:
            moment = self._last_time + timedelta(milliseconds=1)
        self._last_time = moment
        return moment

    def observe_time(self, moment: datetime) -> None:
        """Tell the clock about a generated timestamp so later changes sort after it."""
        if self._last_time is None or moment > self._last_time:
            self._last_time = truncate_to_millis(moment)

    def bump_transaction(self) -> None:
        self.transaction += 1

    # -- nodes ---------------------------------------------------------------------------

    def insert(self, node: Node) -> Node:
        if node.id in self.nodes:
            raise ValueError(f"duplicate node id {node.id}")
        if node.parent_id is not None:
            if node.parent_id not in self.nodes:
                raise KeyError(f"no live parent node {node.parent_id}")
            self.ensure_unique_name(node.parent_id, node.name, assoc_type=node.assoc_type)
            self.children.setdefault(node.parent_id, []).append(node.id)
        node.changed_at = node.changed_at or node.modified_at
        self.nodes[node.id] = node
        self.children.setdefault(node.id, [])
        self.observe_time(node.modified_at)
        self.bump_transaction()
        return node

    def ensure_unique_name(
        self,
        parent_id: str,
        name: str,
        *,
        ignore: str | None = None,
        assoc_type: str = "cm:contains",
    ) -> None:
        """Names are unique among a folder's children of one association type."""
        for child_id in self.children.get(parent_id, []):
            child = self.nodes.get(child_id)
            if child is None or child.id == ignore or child.assoc_type != assoc_type:
                continue
            if child.name == name:
                raise ValueError(f"a node named {name!r} already exists in {parent_id}")

    def get(self, node_id: str) -> Node:
        """A live node (not in the trashcan); KeyError otherwise."""
        return self.nodes[node_id]

    def lookup_any(self, node_id: str) -> Node | None:
        """A node whether live or in the trashcan."""
        return self.nodes.get(node_id) or self.archive.get(node_id)

    def child_nodes(self, node_id: str) -> list[Node]:
        return [self.nodes[c] for c in self.children.get(node_id, []) if c in self.nodes]

    def descendants(self, node_id: str) -> Iterator[Node]:
        """Live and archived descendants, depth first (archived subtrees move as a whole)."""
        for child_id in list(self.children.get(node_id, [])):
            child = self.lookup_any(child_id)
            if child is not None:
                yield child
                yield from self.descendants(child_id)

    def ancestors(self, node: Node) -> list[Node]:
        """Ancestors from Company Home down to the parent; empty for Company Home."""
        chain: list[Node] = []
        parent_id = node.parent_id
        while parent_id is not None:
            parent = self.lookup_any(parent_id)
            if parent is None:
                break
            chain.append(parent)
            parent_id = parent.parent_id
        chain.reverse()
        return chain

    def site_id_of(self, node: Node) -> str | None:
        for candidate in [*self.ancestors(node), node]:
            if candidate.node_type == "st:site":
                return candidate.name
        return None

    def container_of(self, node: Node) -> str | None:
        """The site container (``documentLibrary``, ``wiki``...) a node lives in."""
        for candidate in self.ancestors(node):
            if "st:siteContainer" in candidate.aspects:
                return str(candidate.properties.get("st:componentId", candidate.name))
        return None

    # -- permissions ---------------------------------------------------------------------

    def inherited_entries(self, node: Node) -> list[PermissionEntry]:
        if not node.inheritance_enabled:
            return []
        parent_id = node.parent_id
        parent = None if parent_id is None else self.lookup_any(parent_id)
        if parent is None:
            return []
        return merge_inherited(parent.locally_set, self.inherited_entries(parent))

    def entries_in_force(self, node: Node) -> list[PermissionEntry]:
        return [*node.locally_set, *self.inherited_entries(node)]

    def authorities(self, user_id: str) -> frozenset[str]:
        return authorities_of(user_id, self.groups)

    def is_admin(self, user_id: str) -> bool:
        return ADMINISTRATORS in self.authorities(user_id)
