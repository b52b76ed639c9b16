"""Attribute filters in the spirit of Kendra's AttributeFilter, and the ACL filter.

The ACL filter goes inside every query that can return documents (the lexical query, the
``knn`` filter and the aggregations), never after retrieval, so totals, pages and facet counts
are computed over what the searcher may read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from acl import EVERYONE, Principal
from search.errors import BadRequest
from search.mapping import field_for

MAX_FILTER_DEPTH = 10
MAX_GROUPS = 2048

AttrValue = datetime | int | float | str | list[str]


class DocumentAttribute(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=200)
    value: AttrValue


class AttributeFilter(BaseModel):
    """Exactly one operator per filter node; ``and_all``/``or_all``/``not`` nest."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    and_all: list[AttributeFilter] | None = Field(default=None, max_length=100)
    or_all: list[AttributeFilter] | None = Field(default=None, max_length=100)
    not_: AttributeFilter | None = Field(default=None, alias="not")
    equals_to: DocumentAttribute | None = None
    contains_any: DocumentAttribute | None = None
    contains_all: DocumentAttribute | None = None
    greater_than: DocumentAttribute | None = None
    greater_than_or_equals: DocumentAttribute | None = None
    less_than: DocumentAttribute | None = None
    less_than_or_equals: DocumentAttribute | None = None

    @model_validator(mode="after")
    def _one_operator(self) -> AttributeFilter:
        set_ops = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(set_ops) != 1:
            raise ValueError(
                "an attribute filter needs exactly one operator (and_all, or_all, not, equals_to, "
                "contains_any, contains_all, greater_than, greater_than_or_equals, less_than, "
                f"less_than_or_equals); got {len(set_ops)}"
            )
        return self


def _value(v: AttrValue) -> Any:
    return v.isoformat() if isinstance(v, datetime) else v


def _list(attr: DocumentAttribute) -> list[Any]:
    if not isinstance(attr.value, list):
        raise BadRequest(f"{attr.key}: contains_any and contains_all need a list of strings")
    if not attr.value:
        raise BadRequest(f"{attr.key}: the list of values is empty")
    return [_value(v) for v in attr.value]


def _range(attr: DocumentAttribute, op: str) -> dict[str, Any]:
    if isinstance(attr.value, list):
        raise BadRequest(f"{attr.key}: a range comparison needs a single number or date")
    return {"range": {field_for(attr.key): {op: _value(attr.value)}}}


def to_query(f: AttributeFilter, depth: int = 0) -> dict[str, Any]:
    """Translate a filter tree to an Elasticsearch query (filter context)."""
    if depth > MAX_FILTER_DEPTH:
        raise BadRequest(f"attribute filters nest at most {MAX_FILTER_DEPTH} levels deep")
    if f.and_all is not None:
        return {"bool": {"filter": [to_query(c, depth + 1) for c in f.and_all]}}
    if f.or_all is not None:
        return {
            "bool": {
                "should": [to_query(c, depth + 1) for c in f.or_all],
                "minimum_should_match": 1,
            }
        }
    if f.not_ is not None:
        return {"bool": {"must_not": [to_query(f.not_, depth + 1)]}}
    if f.equals_to is not None:
        attr = f.equals_to
        if isinstance(attr.value, list):
            return {
                "bool": {"filter": [{"term": {field_for(attr.key): _value(v)}} for v in attr.value]}
            }
        return {"term": {field_for(attr.key): _value(attr.value)}}
    if f.contains_any is not None:
        return {"terms": {field_for(f.contains_any.key): _list(f.contains_any)}}
    if f.contains_all is not None:
        key = field_for(f.contains_all.key)
        return {"bool": {"filter": [{"term": {key: v}} for v in _list(f.contains_all)]}}
    if f.greater_than is not None:
        return _range(f.greater_than, "gt")
    if f.greater_than_or_equals is not None:
        return _range(f.greater_than_or_equals, "gte")
    if f.less_than is not None:
        return _range(f.less_than, "lt")
    assert f.less_than_or_equals is not None
    return _range(f.less_than_or_equals, "lte")


def acl_filter(principal: Principal) -> dict[str, Any]:
    """Readable = (user allowed or a group allowed) and not (user denied or a group denied).

    Every principal carries EVERYONE; the anonymous principal carries nothing else. One
    ``terms`` clause per field keeps the filter small and fast with thousands of groups.
    """
    if len(principal.groups) > MAX_GROUPS:
        raise BadRequest(
            f"a user may carry at most {MAX_GROUPS} groups, not {len(principal.groups)}"
        )
    groups = sorted(principal.groups | {EVERYONE})
    allow: list[dict[str, Any]] = [{"terms": {"acl_allow_groups": groups}}]
    deny: list[dict[str, Any]] = [{"terms": {"acl_deny_groups": groups}}]
    if principal.user is not None:
        allow.append({"term": {"acl_allow_users": principal.user}})
        deny.append({"term": {"acl_deny_users": principal.user}})
    return {
        "bool": {
            "filter": [{"bool": {"should": allow, "minimum_should_match": 1}}],
            "must_not": deny,
        }
    }
