"""Attribute filters in the spirit of Kendra's AttributeFilter, and the ACL filter.

The ACL filter goes inside every query that can return documents (the lexical query, the
``knn`` filter and the aggregations), never after retrieval, so totals, pages and facet counts
are computed over what the searcher may read.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from acl import EVERYONE, Principal
from search.errors import BadRequest
from search.mapping import field_for, field_type

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


FieldTypes = Mapping[str, str]
"""Custom attribute name → Elasticsearch field type (``search.mapping.custom_attribute_types``)."""

_WHOLE = {"long": 63, "integer": 31, "short": 15, "byte": 7}
_FLOAT_MAX = {"double": 1.7976931348623157e308, "float": 3.4028234e38, "half_float": 65504.0}
_DATES = {"date", "date_nanos"}
_ORDERABLE = {"keyword", "boolean", "scaled_float", *_WHOLE, *_FLOAT_MAX, *_DATES}
_DATE_HINT = "a date (ISO 8601, e.g. 2026-01-31 or 2026-01-31T12:00:00Z)"
_INTEGER = re.compile(r"[+-]?[0-9]{1,20}")


def _kind(v: Any) -> str:
    """What the caller sent, without echoing it (it may be anything)."""
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, int | float):
        return "a number"
    if isinstance(v, datetime):
        return "a date"
    return "text" if isinstance(v, str) else type(v).__name__


def _typed(op: str, key: str, type_: str | None, v: Any) -> Any:
    """One filter value checked against its field's type and put in the form Elasticsearch takes.

    Values are decided here, before Elasticsearch is asked, so a wrong one is a 400 naming the
    attribute, the operator and the expected type rather than a failed search.
    """

    def bad(expected: str) -> BadRequest:
        return BadRequest(f"attribute_filter: {op} {key}: expected {expected}, got {_kind(v)}")

    if type_ is None:  # no document carries the attribute yet: nothing can match, nothing fails
        return v.isoformat() if isinstance(v, datetime) else v
    if type_ == "keyword":
        if isinstance(v, datetime):
            return v.isoformat()
        if isinstance(v, str) or (isinstance(v, int) and not isinstance(v, bool)):
            return v
        raise bad("a string")
    if type_ in _WHOLE or type_ == "scaled_float":
        bits = _WHOLE.get(type_, 63)
        expected = f"a whole number from -2^{bits} to 2^{bits}-1"
        number: int | None = None
        if isinstance(v, int) and not isinstance(v, bool):
            number = v
        elif (isinstance(v, float) and math.isfinite(v) and v.is_integer()) or (
            isinstance(v, str) and _INTEGER.fullmatch(v.strip())  # list values are strings
        ):
            number = int(v)
        if number is None or not -(2**bits) <= number < 2**bits:
            raise bad(expected)
        return number
    if type_ in _FLOAT_MAX:
        try:
            real = float(v) if not isinstance(v, bool | datetime | list) else math.nan
        except (ValueError, OverflowError):
            real = math.nan
        if not math.isfinite(real) or abs(real) > _FLOAT_MAX[type_]:
            raise bad("a finite number")
        return real
    if type_ in _DATES:
        moment: datetime | None = v if isinstance(v, datetime) else None
        if isinstance(v, str):
            try:
                moment = datetime.fromisoformat(v.strip())
            except ValueError:
                moment = None
        if moment is None:
            raise bad(_DATE_HINT)
        # Elasticsearch takes offsets up to ±18:00 only; UTC always fits.
        return (moment.astimezone(UTC) if moment.tzinfo else moment).isoformat()
    if type_ == "boolean":
        if isinstance(v, str) and v in ("true", "false"):
            return v
        raise bad("true or false")
    raise BadRequest(f"attribute_filter: {op} {key}: a {type_} attribute cannot be filtered")


def _one(op: str, attr: DocumentAttribute, types: FieldTypes) -> Any:
    if isinstance(attr.value, list):
        raise BadRequest(f"attribute_filter: {op} {attr.key}: expected a single value, got a list")
    return _typed(op, attr.key, field_type(attr.key, types), attr.value)


def _list(op: str, attr: DocumentAttribute, types: FieldTypes) -> list[Any]:
    if not isinstance(attr.value, list):
        raise BadRequest(f"attribute_filter: {op} {attr.key}: expected a list of values")
    if not attr.value:
        raise BadRequest(f"attribute_filter: {op} {attr.key}: the list of values is empty")
    type_ = field_type(attr.key, types)
    return [_typed(op, attr.key, type_, v) for v in attr.value]


def _range(op: str, attr: DocumentAttribute, types: FieldTypes, bound: str) -> dict[str, Any]:
    if isinstance(attr.value, list):
        raise BadRequest(f"attribute_filter: {op} {attr.key}: expected a single value, got a list")
    return {"range": {field_for(attr.key): {bound: _one(op, attr, types)}}}


def attribute_names(f: AttributeFilter) -> set[str]:
    """Every attribute a filter tree names (to look up the custom ones' types once)."""
    names: set[str] = set()
    for child in [*(f.and_all or []), *(f.or_all or []), *([f.not_] if f.not_ else [])]:
        names |= attribute_names(child)
    for attr in (
        f.equals_to,
        f.contains_any,
        f.contains_all,
        f.greater_than,
        f.greater_than_or_equals,
        f.less_than,
        f.less_than_or_equals,
    ):
        if attr is not None:
            names.add(attr.key)
    return names


def check_orderable(what: str, attribute: str, types: FieldTypes) -> None:
    """Sorting and facets need a field Elasticsearch can order: refuse objects up front."""
    field_for(attribute)  # unknown reserved names and malformed ones are refused here
    type_ = field_type(attribute, types)
    if type_ is not None and type_ not in _ORDERABLE:
        raise BadRequest(f"{what}: a {type_} attribute ({attribute}) cannot be used here")


def to_query(
    f: AttributeFilter, depth: int = 0, *, types: FieldTypes | None = None
) -> dict[str, Any]:
    """Translate a filter tree to an Elasticsearch query (filter context), checking every value.

    ``types`` holds the custom attributes' field types; reserved attributes' types are fixed.
    """
    if depth > MAX_FILTER_DEPTH:
        raise BadRequest(f"attribute filters nest at most {MAX_FILTER_DEPTH} levels deep")
    known: FieldTypes = types or {}
    if f.and_all is not None:
        return {"bool": {"filter": [to_query(c, depth + 1, types=known) for c in f.and_all]}}
    if f.or_all is not None:
        return {
            "bool": {
                "should": [to_query(c, depth + 1, types=known) for c in f.or_all],
                "minimum_should_match": 1,
            }
        }
    if f.not_ is not None:
        return {"bool": {"must_not": [to_query(f.not_, depth + 1, types=known)]}}
    if f.equals_to is not None:
        attr = f.equals_to
        if isinstance(attr.value, list):
            values = _list("equals_to", attr, known)
            return {"bool": {"filter": [{"term": {field_for(attr.key): v}} for v in values]}}
        return {"term": {field_for(attr.key): _one("equals_to", attr, known)}}
    if f.contains_any is not None:
        values = _list("contains_any", f.contains_any, known)
        return {"terms": {field_for(f.contains_any.key): values}}
    if f.contains_all is not None:
        key = field_for(f.contains_all.key)
        values = _list("contains_all", f.contains_all, known)
        return {"bool": {"filter": [{"term": {key: v}} for v in values]}}
    if f.greater_than is not None:
        return _range("greater_than", f.greater_than, known, "gt")
    if f.greater_than_or_equals is not None:
        return _range("greater_than_or_equals", f.greater_than_or_equals, known, "gte")
    if f.less_than is not None:
        return _range("less_than", f.less_than, known, "lt")
    assert f.less_than_or_equals is not None
    return _range("less_than_or_equals", f.less_than_or_equals, known, "lte")


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
