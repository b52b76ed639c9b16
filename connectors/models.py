"""What crosses from a connector to the ingestion pipeline.

A crawl is a stream of these items. The sync engine saves a ``Checkpoint`` only after every
item yielded before it has been written, so resuming from a checkpoint never loses an item;
writes are idempotent, so replaying a few never duplicates one.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from acl import AccessControlList

AttributeValue = str | int | float | bool | datetime | list[str] | None


class SyncMode(str, Enum):
    FULL = "full"
    INCREMENTAL = "incremental"
    FORCED_FULL = "forced-full"


class Document(BaseModel):
    """One searchable item of a source, with the ACL that governs it.

    ``id`` is stable across crawls of the same source item (moves and renames included).
    Either ``text`` (already plain or HTML text) or ``content`` (raw bytes to extract) is set;
    ``content_length`` is the item's true size when ``content`` was cut short by the connector.
    """

    model_config = ConfigDict(extra="forbid")

    kind: Literal["document"] = "document"
    id: str = Field(min_length=1, max_length=512)
    title: str = ""
    source_uri: str | None = None
    text: str | None = None
    content: bytes | None = None
    content_type: str | None = None
    content_length: int | None = None
    created_at: datetime | None = None
    modified_at: datetime | None = None
    authors: list[str] = Field(default_factory=list)
    language: str = "en"
    category: str | None = None
    path: str | None = None
    folder: str | None = None
    """Where the item lives at its source, as a person would look for it (an Alfresco site,
    container and folder; a directory under a filesystem root); shown with search results."""
    attributes: dict[str, AttributeValue] = Field(default_factory=dict)
    acl: AccessControlList | None = None
    """None means the connector could not read the ACL: the document is then visible to nobody."""


class Deletion(BaseModel):
    """A source item that no longer exists (or is no longer in scope)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["deletion"] = "deletion"
    id: str = Field(min_length=1, max_length=512)
    reason: str = "deleted at source"


class GroupMembership(BaseModel):
    """Direct members of one group; nesting is resolved by the identity store."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["group"] = "group"
    group: str = Field(min_length=1)
    users: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)


class Failure(BaseModel):
    """An item the connector could not read; recorded in the job history, never fatal alone."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["failure"] = "failure"
    id: str
    reason: str


class Checkpoint(BaseModel):
    """Where to resume. ``state`` is the connector's own JSON; the engine never looks inside."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["checkpoint"] = "checkpoint"
    state: dict[str, Any] = Field(default_factory=dict)
    complete: bool = False
    """True on the last checkpoint of a crawl that enumerated everything it was asked to."""


CrawlItem = Document | Deletion | GroupMembership | Failure | Checkpoint
