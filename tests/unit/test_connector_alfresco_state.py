"""Where an Alfresco crawl starts from: fresh, resumed, or full after a config change."""

from __future__ import annotations

from datetime import UTC, datetime

from connectors.alfresco.config import AlfrescoConfig
from connectors.alfresco.scope import Root
from connectors.alfresco.state import (
    CrawlState,
    PassState,
    Pending,
    config_fingerprint,
    load_state,
)
from connectors.models import Checkpoint, SyncMode

CONFIG = AlfrescoConfig(site_url="http://alf:8080", site_ids=["eng"], secret_ref="env:ALF")
NOW = datetime(2026, 3, 1, tzinfo=UTC)


def _state(config: AlfrescoConfig = CONFIG, running: bool | None = None) -> Checkpoint:
    state = CrawlState(config=config_fingerprint(config), last_sync=NOW, nodes={"n1": "sig"})
    if running is not None:
        root = Root(folder_id="f", rel="documentLibrary", category="documentLibrary", site="eng")
        state.running = PassState(
            full=running, started=NOW, roots=[root], stack=[Pending(root=0, folder_id="f", rel="x")]
        )
    return state.checkpoint()


def test_no_checkpoint_or_forced_full_starts_afresh() -> None:
    for mode, checkpoint in [(SyncMode.INCREMENTAL, None), (SyncMode.FORCED_FULL, _state())]:
        state, full = load_state(mode, checkpoint, CONFIG)
        assert full and not state.nodes and state.running is None


def test_incremental_after_a_complete_pass() -> None:
    state, full = load_state(SyncMode.INCREMENTAL, _state(), CONFIG)
    assert not full and state.nodes == {"n1": "sig"} and state.last_sync == NOW


def test_full_keeps_the_baseline_for_deletions() -> None:
    state, full = load_state(SyncMode.FULL, _state(), CONFIG)
    assert full and state.nodes == {"n1": "sig"}


def test_passes_in_progress_resume_unless_a_full_pass_replaces_an_incremental_one() -> None:
    state, full = load_state(SyncMode.INCREMENTAL, _state(running=True), CONFIG)
    assert full and state.running is not None
    state, full = load_state(SyncMode.FULL, _state(running=True), CONFIG)
    assert full and state.running is not None
    state, full = load_state(SyncMode.FULL, _state(running=False), CONFIG)
    assert full and state.running is None


def test_config_change_forces_a_full_pass_that_still_knows_the_old_nodes() -> None:
    changed = CONFIG.model_copy(update={"exclusion_patterns": ["x"]})
    state, full = load_state(SyncMode.INCREMENTAL, _state(running=False), changed)
    assert full and state.running is None and state.nodes == {"n1": "sig"}


def test_unreadable_state_starts_afresh() -> None:
    state, full = load_state(SyncMode.INCREMENTAL, Checkpoint(state={"nodes": 3}), CONFIG)
    assert full and not state.nodes
