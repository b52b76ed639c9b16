"""Changes to people and groups: new people (with home folders), nesting, memberships.

Group nesting is checked for cycles, because Alfresco refuses them and a resolver that
follows memberships must terminate.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from devtools.alfresco_sim.content_model import SITE_ROLES, site_role_group
from devtools.alfresco_sim.model import Group, Person
from devtools.alfresco_sim.mutations import NodeMutations
from devtools.alfresco_sim.permissions import transitive_groups


class DirectoryMutations(NodeMutations):
    """Thread-safe changes to people and groups."""

    def add_person(
        self,
        user_id: str,
        password: str,
        first_name: str,
        last_name: str = "",
        *,
        email: str | None = None,
        groups: Iterable[str] = (),
        enabled: bool = True,
        job_title: str = "",
        at: datetime | None = None,
    ) -> None:
        """Add a person with a home folder under User Homes, then join ``groups``."""
        with self.lock:
            if user_id in self.people or user_id.startswith("GROUP_"):
                raise ValueError(f"person {user_id!r} exists or is not a valid person id")
            home = self.create_node(
                self.user_homes_id,
                user_id,
                "cm:folder",
                by="admin",
                created_at=at,
                locally_set=[(user_id, "Coordinator")],
                inheritance_enabled=False,
            )
            self.people[user_id] = Person(
                user_id,
                password,
                first_name,
                last_name,
                email or f"{user_id}@example.com",
                enabled,
                job_title,
                home.id,
            )
            for group_id in groups:
                self.add_group_member(group_id, user_id)

    def set_person_enabled(self, user_id: str, enabled: bool) -> None:
        with self.lock:
            self.people[user_id].enabled = enabled

    def add_group(
        self,
        group_id: str,
        display_name: str,
        *,
        description: str = "",
        parent_ids: Iterable[str] = (),
        zones: Sequence[str] = ("APP.DEFAULT", "AUTH.ALF"),
    ) -> None:
        with self.lock:
            if not group_id.startswith("GROUP_") or group_id in self.groups:
                raise ValueError(f"group id {group_id!r} is invalid or exists")
            self.groups[group_id] = Group(group_id, display_name, description, list(zones))
            for parent_id in parent_ids:
                self.add_group_member(parent_id, group_id)

    def add_site_groups(self, site_id: str) -> None:
        """The site's role groups, nested under ``GROUP_site_<siteId>`` as in Share."""
        self.add_group(f"GROUP_site_{site_id}", f"site_{site_id}", zones=("APP.SHARE",))
        for role in SITE_ROLES:
            self.add_group(
                site_role_group(site_id, role),
                f"site_{site_id}_{role}",
                parent_ids=[f"GROUP_site_{site_id}"],
                zones=("APP.SHARE",),
            )

    def add_group_member(self, group_id: str, member_id: str) -> None:
        with self.lock:
            group = self.groups[group_id]
            if member_id.startswith("GROUP_"):
                if member_id not in self.groups:
                    raise KeyError(f"no group {member_id}")
                if member_id == group_id or member_id in transitive_groups(group_id, self.groups):
                    raise ValueError(f"adding {member_id} to {group_id} would create a cycle")
            elif member_id not in self.people:
                raise KeyError(f"no person {member_id}")
            if member_id not in group.members:
                group.members.append(member_id)
            self.bump_transaction()

    def remove_group_member(self, group_id: str, member_id: str) -> None:
        with self.lock:
            self.groups[group_id].members.remove(member_id)
            self.bump_transaction()
