"""Query-parameter parsing shared by the list endpoints, strict where the real server is.

Bad ``skipCount``/``maxItems``/``orderBy``/``where`` values get 400 like in Alfresco, so a
connector that sends them finds out here rather than in production.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from devtools.alfresco_sim.http_types import ApiError, ApiRequest

T = TypeVar("T")
DEFAULT_MAX_ITEMS = 100

_CLAUSE = re.compile(r"^\s*([A-Za-z]+)\s*=\s*('([^']*)'|\"([^\"]*)\"|(\S+))\s*$")
_IN_CLAUSE = re.compile(r"^\s*([A-Za-z]+)\s+in\s*\(\s*'([^']*)'\s*\)\s*$", re.IGNORECASE)


def integer(request: ApiRequest, name: str, default: int, minimum: int) -> int:
    raw = request.arg(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ApiError(400, f"Invalid paging parameter {name}: {raw}") from exc
    if value < minimum:
        raise ApiError(400, f"Invalid paging parameter {name}: {raw}")
    return value


def paging(request: ApiRequest) -> tuple[int, int]:
    """``(skipCount, maxItems)`` with Alfresco's defaults (0 and 100)."""
    return (
        integer(request, "skipCount", 0, 0),
        integer(request, "maxItems", DEFAULT_MAX_ITEMS, 1),
    )


def csv(request: ApiRequest, name: str) -> list[str]:
    """A ``collectionFormat: csv`` parameter (repeated parameters are joined)."""
    values: list[str] = []
    for raw in request.query.get(name, []):
        values.extend(part.strip() for part in raw.split(",") if part.strip())
    return values


def boolean(request: ApiRequest, name: str, default: bool) -> bool:
    raw = request.arg(name)
    if raw is None:
        return default
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    raise ApiError(400, f"Invalid value for {name}: {raw}")


def where_clauses(request: ApiRequest, allowed: Sequence[str]) -> dict[str, str]:
    """Parse ``(a=b AND c='d')`` (and ``x in ('v')``) into a dict, refusing unknown fields."""
    raw = request.arg("where")
    if raw is None or not raw.strip():
        return {}
    text = raw.strip()
    if not (text.startswith("(") and text.endswith(")")):
        raise ApiError(400, f"Invalid query: where clause must be in parentheses: {raw}")
    clauses: dict[str, str] = {}
    for part in re.split(r"\s+and\s+", text[1:-1], flags=re.IGNORECASE):
        match = _CLAUSE.match(part)
        in_match = _IN_CLAUSE.match(part)
        if match:
            field = match.group(1)
            value = next(g for g in match.groups()[2:] if g is not None)
        elif in_match:
            field, value = in_match.group(1), in_match.group(2)
        else:
            raise ApiError(400, f"Invalid query: cannot parse where clause {part!r}")
        if field not in allowed:
            raise ApiError(400, f"Invalid query: unsupported where field {field}")
        clauses[field] = value
    return clauses


def order_by(
    request: ApiRequest,
    items: list[T],
    keys: Mapping[str, Callable[[T], Any]],
) -> list[T] | None:
    """Sort by ``orderBy=field [ASC|DESC],...``; None when the parameter is absent."""
    fields = csv(request, "orderBy")
    if not fields:
        return None
    result = list(items)
    for spec in reversed(fields):
        parts = spec.split()
        field = parts[0]
        direction = parts[1].upper() if len(parts) > 1 else "ASC"
        if field not in keys or direction not in ("ASC", "DESC") or len(parts) > 2:
            raise ApiError(400, f"Invalid orderBy: {spec}")
        result.sort(key=keys[field], reverse=direction == "DESC")
    return result
