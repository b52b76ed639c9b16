"""The Elasticsearch client Quarry builds: its bodies and its connection pool."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np

from search.es import SERIALIZERS, make_client
from search.settings import Settings


def test_bodies_are_written_as_the_standard_library_wrote_them() -> None:
    """orjson speeds up every request; what Elasticsearch receives must not change."""
    body = {
        "query_vector": np.asarray([0.25, -0.5], dtype=np.float32),
        "boost": np.float32(0.5),
        "created_at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        "values": {7: "seven"},  # non-string keys become strings, as json.dumps makes them
        "text": "naïve ✓",
    }
    written = json.loads(SERIALIZERS["application/json"].dumps(body))
    assert written == {
        "query_vector": [0.25, -0.5],
        "boost": 0.5,
        "created_at": "2026-01-02T03:04:05+00:00",
        "values": {"7": "seven"},
        "text": "naïve ✓",
    }
    lines = SERIALIZERS["application/x-ndjson"].dumps([{"index": {"_id": "a"}}, body])
    header, doc = lines.decode().strip().split("\n")
    assert json.loads(header) == {"index": {"_id": "a"}}
    assert json.loads(doc) == written


def test_the_client_keeps_a_connection_per_searching_thread() -> None:
    """With the client's default of 10, an API process's searches queued for a connection."""
    client = make_client(Settings(es_url="http://127.0.0.1:9", es_connections=48))
    node = client.transport.node_pool.all()[0]
    assert node.config.connections_per_node == 48
    assert Settings().es_connections == 64
