"""Kendra's typed attribute values and attribute filters, to and from the core's plain ones.

Kendra types every value (``StringValue``, ``StringListValue``, ``LongValue``,
``DateValue``); the core keeps plain JSON values and Elasticsearch knows each field's type.
Outgoing values are typed by the field's mapping (``search.attribute_types``), so a date stored
as an ISO string comes back as a ``DateValue`` and a long as a ``LongValue``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from api.kendra.errors import validation
from search.attribute_types import AttributeTypes
from search.filters import MAX_FILTER_DEPTH, AttributeFilter, AttrValue, DocumentAttribute

ACCESS_KEYS = ("_user_id", "_group_ids")
_OPERATORS = {
    "AndAllFilters": "and_all",
    "OrAllFilters": "or_all",
    "NotFilter": "not",
    "EqualsTo": "equals_to",
    "ContainsAny": "contains_any",
    "ContainsAll": "contains_all",
    "GreaterThan": "greater_than",
    "GreaterThanOrEquals": "greater_than_or_equals",
    "LessThan": "less_than",
    "LessThanOrEquals": "less_than_or_equals",
}
VALUE_TYPES = {
    "date": "DATE_VALUE",
    "long": "LONG_VALUE",
    "list": "STRING_LIST_VALUE",
    "string": "STRING_VALUE",
}


def parse_time(value: Any, path: str) -> datetime:
    """A JSON 1.1 timestamp: epoch seconds (what SDKs send) or an ISO 8601 string."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), tz=UTC)
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise validation(f"{path}: not a timestamp") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    raise validation(f"{path}: expected a timestamp")


def from_kendra_value(value: Any, path: str) -> AttrValue:
    """``DocumentAttributeValue`` → the core's value; exactly one member must be set."""
    if not isinstance(value, dict):
        raise validation(f"{path}: expected a DocumentAttributeValue object")
    present = [
        k
        for k in ("StringValue", "StringListValue", "LongValue", "DateValue")
        if value.get(k) is not None
    ]
    if len(present) != 1:
        raise validation(
            f"{path}: set exactly one of StringValue, StringListValue, "
            f"LongValue, DateValue (got {len(present)})"
        )
    kind, raw = present[0], value[present[0]]
    if kind == "StringValue" and isinstance(raw, str):
        return raw
    if kind == "StringListValue" and isinstance(raw, list) and all(isinstance(v, str) for v in raw):
        return list(raw)
    if kind == "LongValue" and isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if kind == "DateValue":
        return parse_time(raw, f"{path}.DateValue")
    raise validation(f"{path}.{kind}: wrong type")


def to_filter(node: Any, path: str = "AttributeFilter", depth: int = 0) -> AttributeFilter:
    """Kendra ``AttributeFilter`` → the core's filter (same operators, same semantics)."""
    if depth > MAX_FILTER_DEPTH:
        raise validation(f"{path}: filters nest at most {MAX_FILTER_DEPTH} levels deep")
    if not isinstance(node, dict):
        raise validation(f"{path}: expected an AttributeFilter object")
    unknown = sorted(set(node) - set(_OPERATORS))
    if unknown:
        raise validation(f"{path}: unknown members {unknown}")
    set_ops = [k for k in _OPERATORS if node.get(k) is not None]
    if len(set_ops) != 1:
        raise validation(f"{path}: set exactly one operator (got {len(set_ops)})")
    op = set_ops[0]
    raw = node[op]
    here = f"{path}.{op}"
    if op in ("AndAllFilters", "OrAllFilters"):
        if not isinstance(raw, list) or not raw:
            raise validation(f"{here}: expected a non-empty list of filters")
        children = [to_filter(c, f"{here}[{i}]", depth + 1) for i, c in enumerate(raw)]
        return AttributeFilter.model_validate({_OPERATORS[op]: children})
    if op == "NotFilter":
        return AttributeFilter.model_validate({"not": to_filter(raw, here, depth + 1)})
    return AttributeFilter.model_validate({_OPERATORS[op]: _attribute(raw, here)})


def _attribute(raw: Any, path: str) -> DocumentAttribute:
    if not isinstance(raw, dict) or not isinstance(raw.get("Key"), str) or "Value" not in raw:
        raise validation(f"{path}: expected a DocumentAttribute with Key and Value")
    key = raw["Key"]
    if key in ACCESS_KEYS:
        raise validation(
            f"{path}.Key: filtering on {key} is not supported; Quarry applies access control "
            "itself: pass UserContext (UserId and Groups, or Token) instead"
        )
    return DocumentAttribute(key=key, value=from_kendra_value(raw["Value"], f"{path}.Value"))


def to_kendra_value(value: Any, kind: str) -> dict[str, Any] | None:
    """A stored value as a typed ``DocumentAttributeValue``; None for an empty one."""
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, list):
        items = [str(v) for v in value if v not in (None, "")]
        return {"StringListValue": items} if items else None
    if kind == "date":
        try:
            return {"DateValue": parse_time(value, "value")}
        except Exception:
            return {"StringValue": str(value)}
    if isinstance(value, bool):
        return {"StringValue": "true" if value else "false"}
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return {"LongValue": int(value)}
    if kind == "long" and isinstance(value, str) and value.lstrip("-").isdigit():
        return {"LongValue": int(value)}
    return {"StringValue": str(value)}


def document_attributes(
    attributes: dict[str, Any], types: AttributeTypes, wanted: list[str] | None
) -> list[dict[str, Any]]:
    """The result's ``DocumentAttributes``, limited to ``wanted`` when the client asked."""
    out: list[dict[str, Any]] = []
    for key in sorted(attributes):
        if wanted is not None and key not in wanted:
            continue
        typed = to_kendra_value(attributes[key], types.kind(key))
        if typed is not None:
            out.append({"Key": key, "Value": typed})
    return out
