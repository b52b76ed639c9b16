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
    """Readable = (user allowed or a group allowed) and not (user denied or a group denied),
    each judged in the namespace of the document's data source (``AccessControlList.permits``).

    The global groups (and EVERYONE) match every document; a source's own groups match only
    that source's documents (a ``term`` on ``data_source_id`` beside them). Case-insensitive
    sources are matched on the lower-cased sub-fields. One ``terms`` clause per field and
    namespace keeps the filter small and fast with thousands of groups.
    """
    count = principal.group_count()
    if count > MAX_GROUPS:
        raise BadRequest(f"a user may carry at most {MAX_GROUPS} groups, not {count}")
    return {
        "bool": {
            "filter": [
                {"bool": {"should": _acl_clauses(principal, "allow"), "minimum_should_match": 1}}
            ],
            "must_not": _acl_clauses(principal, "deny"),
        }
    }


def _acl_clauses(principal: Principal, effect: str) -> list[dict[str, Any]]:
    users, groups = f"acl_{effect}_users", f"acl_{effect}_groups"
    global_groups = sorted(principal.groups | {EVERYONE})
    folded = sorted(s for s, scope in principal.sources.items() if scope.case_insensitive)

    def matches(suffix: str, extra: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = [
            {"terms": {groups + suffix: sorted(principal.groups | extra | {EVERYONE})}}
        ]
        if principal.user is not None:
            found.append({"term": {users + suffix: principal.user}})
        return found

    clauses: list[dict[str, Any]] = []
    exact = matches("")
    if folded:  # those sources' documents are matched below, without regard to case
        clauses.append(
            {
                "bool": {
                    "should": exact,
                    "minimum_should_match": 1,
                    "must_not": [{"terms": {"data_source_id": folded}}],
                }
            }
        )
    else:
        clauses += exact
    for source, scope in sorted(principal.sources.items()):
        if scope.case_insensitive:
            clauses.append(
                {
                    "bool": {
                        "filter": [
                            {"term": {"data_source_id": source}},
                            {
                                "bool": {
                                    "should": matches(".lower", scope.groups),
                                    "minimum_should_match": 1,
                                }
                            },
                        ]
                    }
                }
            )
        elif own := sorted(scope.groups - set(global_groups)):
            clauses.append(
                {
                    "bool": {
                        "filter": [
                            {"term": {"data_source_id": source}},
                            {"terms": {groups: own}},
                        ]
                    }
                }
            )
    return clauses
