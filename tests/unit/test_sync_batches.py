"""What travels to a batch worker: every crawl item kind survives the JSON of a task message."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from acl import AccessControlList
from connectors.models import Deletion, Document, Failure, GroupMembership
from search.pipeline import BatchStats
from sync_engine.batches import (
    decode_items,
    encode_items,
    item_key,
    stats_from_dict,
    stats_to_dict,
)


def test_items_round_trip_through_json_with_binary_content() -> None:
    items = [
        Document(
            id="a",
            title="Report",
            content=bytes(range(256)),  # not UTF-8: travels as base64
            content_type="application/pdf",
            content_length=1000,
            modified_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
            attributes={"n": 3, "tags": ["x", "y"], "when": datetime(2025, 5, 6, tzinfo=UTC)},
            acl=AccessControlList(allow_groups=["G"], deny_users=["eve"]),
        ),
        Document(id="b", text="plain text", acl=None),
        Deletion(id="c"),
        GroupMembership(group="G", users=["alice"], groups=["H"]),
        Failure(id="d", reason="unreadable"),
    ]
    wire = json.loads(json.dumps(encode_items(items)))
    decoded = decode_items(wire)
    assert decoded == items
    # Same types and the same text form: the index (and its content hash) cannot tell.
    doc, back = items[0], decoded[0]
    assert isinstance(doc, Document) and isinstance(back, Document)
    assert back.attributes == doc.attributes
    assert {k: type(v) for k, v in back.attributes.items()} == {
        k: type(v) for k, v in doc.attributes.items()
    }
    assert back.modified_at is not None and doc.modified_at is not None
    assert back.modified_at.isoformat() == doc.modified_at.isoformat()
    naive = Document(id="n", text="t", created_at=datetime(2026, 1, 1, 12, 0))
    [naive_back] = decode_items(json.loads(json.dumps(encode_items([naive]))))
    assert naive_back == naive


def test_items_that_must_not_be_written_concurrently_share_a_key() -> None:
    assert item_key(Document(id="x", text="t")) == item_key(Deletion(id="x"))
    assert item_key(GroupMembership(group="x")) != item_key(Deletion(id="x"))
    assert item_key(Failure(id="x", reason="r")) is None


def test_batch_stats_round_trip() -> None:
    stats = BatchStats(
        added=["a"], modified=["b"], unchanged=["c"], failed={"d": "why"}, groups=2, passages=7
    )
    assert stats_from_dict(json.loads(json.dumps(stats_to_dict(stats)))) == stats
