"""The document index's settings and mapping, and Kendra-style reserved attributes.

One Elasticsearch document per source document, its passages as ``nested`` objects each with
its own vector. Why nested rather than one Elasticsearch document per passage: a document and
its passages are written and deleted atomically (no orphan passages after a delete or an
edit that shortens the text), totals, facets and pages count documents rather than passages,
and ``knn`` over the nested vectors ranks documents by their best passage and returns that
passage as an inner hit, which is what the excerpt needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from search.embed import LEGACY_SPACE, EmbeddingSpace

ANALYZER = "quarry_text"
LOWER = "quarry_lower"
ACL_FIELDS = ("acl_allow_users", "acl_allow_groups", "acl_deny_users", "acl_deny_groups")
ATTRIBUTE_PREFIX = "attr"

# Kendra's reserved attribute names and the index fields that hold them.
RESERVED_ATTRIBUTES: dict[str, str] = {
    "_source_uri": "source_uri",
    "_created_at": "created_at",
    "_last_updated_at": "last_updated_at",
    "_authors": "authors",
    "_category": "category",
    "_file_type": "file_type",
    "_data_source_id": "data_source_id",
    "_language_code": "language_code",
    "_document_title": "title.raw",
    "_document_id": "doc_id",
}

# The Elasticsearch type behind each reserved attribute, for checking filter values up front.
RESERVED_FIELD_TYPES: dict[str, str] = {
    name: ("date" if field in ("created_at", "last_updated_at") else "keyword")
    for name, field in RESERVED_ATTRIBUTES.items()
}

ADDED_FIELDS: dict[str, Any] = {
    # Exact-duplicate collapse (search.duplicates) and where a document lives at its source.
    "text_hash": {"type": "keyword"},
    "folder": {"type": "keyword", "ignore_above": 2048},
}
"""Fields added after indices were first created: ``IndexManager.ensure`` puts them into an
existing index's mapping (additive, no reindex); older documents simply lack them."""

ATTRIBUTE_TYPES = {"string": "keyword", "string_list": "keyword", "long": "long", "date": "date"}


def analysis_settings(english: bool) -> dict[str, Any]:
    """English stemming when Quarry's analysis plugin is on the node, else the standard analyzer."""
    if english:
        analyzer = {
            "type": "custom",
            "tokenizer": "standard",
            "filter": [
                "quarry_english_possessive",
                "lowercase",
                "quarry_english_stop",
                "quarry_porter_stem",
            ],
        }
    else:
        analyzer = {"type": "standard"}
    return {
        "analyzer": {ANALYZER: analyzer},
        # Ids of case-insensitive sources (Alfresco's) are matched on lower-cased sub-fields.
        "normalizer": {LOWER: {"type": "custom", "filter": ["lowercase"]}},
    }


def index_body(
    english: bool, settings: dict[str, Any], space: EmbeddingSpace = LEGACY_SPACE
) -> dict[str, Any]:
    """The document index's body; ``settings`` holds its shards and replicas, ``space`` is the
    embedding space its vectors are made in (recorded in ``_meta.embedding``)."""
    text = {"type": "text", "analyzer": ANALYZER}
    keyword = {"type": "keyword"}
    return {
        "settings": {
            **settings,
            "analysis": analysis_settings(english),
        },
        "mappings": {
            "dynamic": "strict",
            "_meta": {"english_analysis": english, "embedding": space.meta()},
            "properties": {
                "doc_id": keyword,
                "data_source_id": keyword,
                "title": {
                    **text,
                    "copy_to": "spell",
                    "fields": {"raw": {"type": "keyword", "ignore_above": 512}},
                },
                "body": {**text, "copy_to": "spell"},
                # Unstemmed words, for spelling suggestions when a query finds nothing.
                "spell": {"type": "text", "analyzer": "standard"},
                "passages": {
                    "type": "nested",
                    "properties": {
                        "text": text,
                        "index": {"type": "integer"},
                        "start": {"type": "integer", "index": False},
                        "end": {"type": "integer", "index": False},
                        "vector": {
                            "type": "dense_vector",
                            "dims": space.dimensions,
                            "index": True,
                            "similarity": "dot_product",
                        },
                    },
                },
                "source_uri": keyword,
                "created_at": {"type": "date"},
                "last_updated_at": {"type": "date"},
                "authors": keyword,
                "category": keyword,
                "file_type": keyword,
                "language_code": keyword,
                "path": keyword,
                **{
                    name: {**keyword, "fields": {"lower": {"type": "keyword", "normalizer": LOWER}}}
                    for name in ACL_FIELDS
                },
                "content_hash": {"type": "keyword", "index": False},
                **ADDED_FIELDS,
                "sync_job": keyword,
                "indexed_at": {"type": "date"},
                "truncated_chars": {"type": "long"},
                "metadata_only_reason": keyword,
                ATTRIBUTE_PREFIX: {"type": "object", "dynamic": True},
            },
            "dynamic_templates": [
                {
                    "attr_strings": {
                        "path_match": f"{ATTRIBUTE_PREFIX}.*",
                        "match_mapping_type": "string",
                        "mapping": {"type": "keyword", "ignore_above": 1024},
                    }
                },
                {
                    "attr_longs": {
                        "path_match": f"{ATTRIBUTE_PREFIX}.*",
                        "match_mapping_type": "long",
                        "mapping": {"type": "long"},
                    }
                },
                {
                    "attr_doubles": {
                        "path_match": f"{ATTRIBUTE_PREFIX}.*",
                        "match_mapping_type": "double",
                        "mapping": {"type": "double"},
                    }
                },
            ],
        },
    }


def field_for(attribute: str) -> str:
    """The index field behind a Kendra-style attribute name (reserved or custom)."""
    if attribute in RESERVED_ATTRIBUTES:
        return RESERVED_ATTRIBUTES[attribute]
    if not attribute or attribute.startswith("_") or "." in attribute or "*" in attribute:
        from search.errors import BadRequest

        raise BadRequest(f"unknown attribute {attribute!r}")
    return f"{ATTRIBUTE_PREFIX}.{attribute}"


def custom_attribute_types(mappings: dict[str, Any]) -> dict[str, str]:
    """Custom attribute name → Elasticsearch type, from one backing index's ``mappings``."""
    attrs = mappings.get("properties", {}).get(ATTRIBUTE_PREFIX, {}).get("properties", {})
    return {name: str(spec.get("type", "object")) for name, spec in attrs.items()}


def field_type(attribute: str, custom: Mapping[str, str]) -> str | None:
    """The Elasticsearch type behind an attribute; ``None`` when no document carries it yet."""
    if attribute in RESERVED_FIELD_TYPES:
        return RESERVED_FIELD_TYPES[attribute]
    return custom.get(attribute)
