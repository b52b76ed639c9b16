"""Shards and replicas: one rule (``Settings.index_settings``) for the document and system indices."""

from __future__ import annotations

import pytest
from elasticsearch import Elasticsearch
from pydantic import ValidationError

from search.index import IndexManager
from search.runtime import Runtime
from search.settings import Settings
from search.system_index import ensure_index


def _index_settings(es: Elasticsearch, index: str) -> dict[str, str]:
    body = es.indices.get_settings(index=index, flat_settings=True).body
    return next(iter(body.values()))["settings"]


def test_hosts_are_a_comma_separated_list_of_urls() -> None:
    s = Settings(es_url="http://es1:9200, https://es2:9200,")
    assert s.es_hosts == ["http://es1:9200", "https://es2:9200"]
    with pytest.raises(ValidationError) as bad:
        Settings(es_url="http://es1:9200,es2:9200")
    assert "es_url" in str(bad.value) and "'es2:9200'" in str(bad.value)


def test_every_index_kind_follows_the_configured_layout(runtime: Runtime) -> None:
    es = runtime.es
    prefix = f"{runtime.settings.index_prefix}-layout"
    fixed = runtime.settings.model_copy(update={"es_shards": 2, "es_replicas": 0})
    docs = IndexManager(es, f"{prefix}-docs", index_settings=fixed.index_settings("documents"))
    made = _index_settings(es, docs.ensure())
    assert made["index.number_of_shards"] == "2"
    assert made["index.number_of_replicas"] == "0"
    assert made.get("index.auto_expand_replicas", "false") == "false"

    system = f"{prefix}-system"
    mappings = {"properties": {"k": {"type": "keyword"}}}
    ensure_index(es, system, mappings, fixed.index_settings("system"))
    assert _index_settings(es, system)["index.number_of_shards"] == "1"

    # The default (unset QUARRY_ES_REPLICAS) reaches existing indices too: 0-1 auto-expanding.
    default = runtime.settings.model_copy(update={"es_replicas": None})
    ensure_index(es, system, mappings, default.index_settings("system"))
    assert _index_settings(es, system)["index.auto_expand_replicas"] == "0-1"
    again = IndexManager(es, f"{prefix}-docs", index_settings=default.index_settings("documents"))
    assert _index_settings(es, again.ensure())["index.auto_expand_replicas"] == "0-1"
    # A fixed count replaces the auto-expansion on the next start.
    ensure_index(es, system, mappings, fixed.index_settings("system"))
    after = _index_settings(es, system)
    assert after.get("index.auto_expand_replicas", "false") == "false"
    assert after["index.number_of_replicas"] == "0"
    es.indices.delete(index=f"{prefix}-*")
