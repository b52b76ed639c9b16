"""Helpers for the Alfresco connector tests: a simulator, a connector on it, an index to replay."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pytest

from acl import Principal
from connectors.alfresco.connector import AlfrescoConnector
from connectors.base import CrawlLimits
from connectors.models import (
    Checkpoint,
    CrawlItem,
    Deletion,
    Document,
    Failure,
    GroupMembership,
    SyncMode,
)
from connectors.registry import build_connector
from devtools.alfresco_sim import (
    Repository,
    SimulatorHandle,
    generate_repository,
    start_simulator,
)
from devtools.alfresco_sim.server import AlfrescoRequestHandler

SECRET_ENV = "QUARRY_TEST_ALFRESCO_SECRET"
FAST = {"backoff_seconds": 0.0, "max_backoff_seconds": 0.0, "timeout_seconds": 5}
"""Retries without sleeping: the tests check that retries happen, not how long they wait."""
SITES = ["engineering", "marketing"]


@cache
def sample() -> Repository:
    """One generated repository for the tests that only read it (generating one takes ~0.5 s).

    Tests that change the repository start ``simulator()`` on a fresh one instead.
    """
    return generate_repository()


@contextmanager
def simulator(repository: Repository | None = None) -> Iterator[SimulatorHandle]:
    # The simulator writes headers and body in two segments; without TCP_NODELAY every
    # keep-alive request waits ~40 ms for a delayed ACK (reported to its owner).
    AlfrescoRequestHandler.disable_nagle_algorithm = True
    with start_simulator(repository) as sim:
        yield sim


def connector(
    base_url: str,
    monkeypatch: pytest.MonkeyPatch,
    *,
    user: str = "admin",
    password: str = "admin",
    **config: Any,
) -> AlfrescoConnector:
    monkeypatch.setenv(SECRET_ENV, json.dumps({"username": user, "password": password}))
    settings = {"site_url": base_url, "site_ids": SITES, "secret_ref": f"env:{SECRET_ENV}"}
    built = build_connector("alfresco", {**settings, **FAST, **config}, "alf")
    assert isinstance(built, AlfrescoConnector)
    return built


@dataclass
class Crawl:
    items: list[CrawlItem]

    @property
    def checkpoint(self) -> Checkpoint:
        last = self.items[-1]
        assert isinstance(last, Checkpoint)
        return last

    @property
    def docs(self) -> dict[str, Document]:
        return {i.id: i for i in self.items if isinstance(i, Document)}

    @property
    def deleted(self) -> set[str]:
        return {i.id for i in self.items if isinstance(i, Deletion)}

    @property
    def failures(self) -> list[Failure]:
        return [i for i in self.items if isinstance(i, Failure)]

    @property
    def groups(self) -> list[GroupMembership]:
        return [i for i in self.items if isinstance(i, GroupMembership)]


def crawl(
    target: AlfrescoConnector,
    mode: SyncMode = SyncMode.FULL,
    checkpoint: Checkpoint | None = None,
    limits: CrawlLimits | None = None,
) -> Crawl:
    return Crawl(list(target.crawl(mode, checkpoint, limits or CrawlLimits())))


@dataclass
class Index:
    """What the sync engine would hold after replaying crawls (deletes only what is told)."""

    docs: dict[str, Document] = field(default_factory=dict)
    groups: dict[str, GroupMembership] = field(default_factory=dict)

    def apply(self, items: Iterable[CrawlItem]) -> Index:
        for item in items:
            if isinstance(item, Document):
                self.docs[item.id] = item
            elif isinstance(item, Deletion):
                self.docs.pop(item.id, None)
            elif isinstance(item, GroupMembership):
                self.groups[item.group] = item
        return self

    def nodes(self, category: str | None = None) -> set[str]:
        """Node ids of the documents (not comments unless asked), without the source prefix."""
        return {
            doc_id.split(":", 1)[1]
            for doc_id, doc in self.docs.items()
            if doc.category == category or (category is None and doc.category != "comment")
        }

    def principal(self, user: str) -> Principal:
        """The user and their transitive groups, resolved from the crawled memberships."""
        parents: dict[str, set[str]] = defaultdict(set)
        for membership in self.groups.values():
            for member in [*membership.users, *membership.groups]:
                parents[member].add(membership.group)
        found: set[str] = set()
        pending = list(parents[user])
        while pending:
            group = pending.pop()
            if group not in found:
                found.add(group)
                pending.extend(parents[group])
        return Principal(user=user, groups=frozenset(found))


def assert_acls_match_oracle(repository: Repository, index: Index) -> None:
    """For every user and indexed item, ``acl.permits`` agrees with ``readable_by``."""
    users = list(repository.describe()["users"])
    for user in users:
        readable = repository.readable_by(user)
        principal = index.principal(user)
        for doc in index.docs.values():
            node = doc.attributes["parent_id"] if doc.category == "comment" else doc.id
            expected = str(node).split(":", 1)[1] in readable
            allowed = doc.acl is not None and doc.acl.permits(principal)
            assert allowed == expected, (user, doc.path, doc.category, doc.acl)
