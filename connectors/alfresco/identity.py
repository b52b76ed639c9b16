"""Group memberships, for the identity store that resolves a searcher's groups.

Direct members only: nesting is resolved by the identity store. A group that existed at the
last pass and is gone now is sent once with no members, so nobody keeps its grants.
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from concurrent.futures import Executor
from urllib.parse import quote

from acl import EVERYONE
from connectors.alfresco.client import AlfrescoClient, ApiError
from connectors.alfresco.mapping import entry_of
from connectors.alfresco.pool import ordered_map
from connectors.errors import SOURCE_ERROR, ConnectorError
from connectors.models import CrawlItem, Failure, GroupMembership

logger = logging.getLogger(__name__)


def _members(client: AlfrescoClient, group: str) -> GroupMembership | Failure | None:
    users: list[str] = []
    groups: list[str] = []
    try:
        for page in client.pages(f"/groups/{quote(group, safe='')}/members"):
            for item in page:
                entry = entry_of(item)
                kind = entry.get("memberType") if entry else None
                if entry is None or kind not in ("PERSON", "GROUP"):
                    return Failure(id=group, reason="malformed group member entry")
                (users if kind == "PERSON" else groups).append(entry["id"])
    except ApiError as exc:
        if exc.status == 404:  # deleted while we were listing: the next pass empties it
            return None
        return Failure(id=group, reason=f"cannot list members of {group}: {exc.message}")
    return GroupMembership(group=group, users=users, groups=groups)


def crawl_groups(
    client: AlfrescoClient, pool: Executor, window: int, known: list[str]
) -> Generator[CrawlItem, None, list[str]]:
    """Yield every group's direct members; return the group ids now known."""
    found: list[str] = []
    try:
        for page in client.pages("/groups"):
            for item in page:
                entry = entry_of(item)
                group = entry["id"] if entry else ""
                if group.startswith("GROUP_") and group != EVERYONE:
                    found.append(group)
    except ApiError as exc:
        if exc.server_failing:
            raise ConnectorError(
                SOURCE_ERROR, f"Alfresco kept failing while listing groups ({exc.message})"
            ) from None
        logger.warning("cannot list alfresco groups", extra={"error": exc.message})
        yield Failure(id="groups", reason=f"cannot list groups: {exc.message}")
        return known
    for result in ordered_map(pool, lambda group: _members(client, group), found, window):
        if result is not None:
            yield result
    for group in sorted(set(known) - set(found)):
        yield GroupMembership(group=group)
    return found
