"""The Alfresco connector's checkpoint state, and how a crawl picks up from it.

The state remembers, per indexed node, a signature of what the index shows of it (path,
effective ACL, modification time). An incremental pass re-yields the nodes whose signature
changed, which is how folder permission changes reach descendants whose ``modifiedAt`` did
not move, and how moves are noticed; a node missing from a complete enumeration is deleted.
A pass in progress is part of the state, so a checkpoint taken between folders resumes there.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.alfresco.config import AlfrescoConfig, Part, fields_of
from connectors.alfresco.scope import Root
from connectors.models import Checkpoint, SyncMode

logger = logging.getLogger(__name__)

STATE_VERSION = 1
RETRY = "retry"
"""Signature of an item that failed: still known (never deleted for it), retried next pass."""


class Pending(BaseModel):
    """A folder still to list: index into ``roots`` and the folder's path relative to its site."""

    model_config = ConfigDict(extra="forbid")

    root: int
    folder_id: str
    rel: str


class PassState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    full: bool
    started: datetime
    """Repository time when the pass began: the next incremental looks for changes after it."""
    since: datetime | None = None
    roots: list[Root]
    stack: list[Pending]
    nodes: dict[str, str] = Field(default_factory=dict)
    """Documents enumerated so far in this pass → signature."""
    folders: dict[str, Pending] = Field(default_factory=dict)
    """Folders walked so far, to place nodes the search reports."""
    comments: dict[str, dict[str, str]] = Field(default_factory=dict)
    """Node id → {comment id: modifiedAt}, for every node whose comments were read this pass."""
    incomplete: bool = False
    """A listing failed: nothing may be deleted for being absent, and the pass is not complete."""


class CrawlState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = STATE_VERSION
    config: str
    last_sync: datetime | None = None
    nodes: dict[str, str] = Field(default_factory=dict)
    comments: dict[str, dict[str, str]] = Field(default_factory=dict)
    groups: list[str] = Field(default_factory=list)
    running: PassState | None = None

    def checkpoint(self, complete: bool = False) -> Checkpoint:
        return Checkpoint(state=self.model_dump(mode="json"), complete=complete)


def config_fingerprint(config: AlfrescoConfig) -> str:
    """Changes when a config change alters which documents exist or what they contain."""
    relevant = config.model_dump(
        mode="json",
        include=set(fields_of(Part.SCOPE)),
    )
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:16]


def load_state(
    mode: SyncMode, checkpoint: Checkpoint | None, config: AlfrescoConfig
) -> tuple[CrawlState, bool]:
    """The state to start from and whether the next pass must be full.

    FORCED_FULL ignores the checkpoint. A pass in progress is resumed unless a full pass is
    asked for and the pass in progress is incremental. After a config change the previous
    state is kept only to delete what fell out of scope, and the pass is full.
    """
    fingerprint = config_fingerprint(config)
    fresh = CrawlState(config=fingerprint)
    if checkpoint is None or mode == SyncMode.FORCED_FULL:
        return fresh, True
    try:
        state = CrawlState.model_validate(checkpoint.state)
    except ValidationError:
        logger.warning("unreadable alfresco checkpoint, starting a full pass")
        return fresh, True
    if state.version != STATE_VERSION or state.config != fingerprint:
        logger.info("alfresco config or state format changed, starting a full pass")
        return state.model_copy(update={"config": fingerprint, "running": None}), True
    running = state.running
    if running is not None and (running.full or mode == SyncMode.INCREMENTAL):
        return state, running.full
    state = state.model_copy(update={"running": None})
    return state, mode != SyncMode.INCREMENTAL or state.last_sync is None
