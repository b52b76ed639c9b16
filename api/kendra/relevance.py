"""Kendra's relevance shapes: ``UpdateIndex``'s metadata configuration updates, the query-time
``DocumentRelevanceOverrideConfigurations`` and ``DescribeIndex``'s ``Relevance`` members.

Translation only: the core (``search.relevance``) owns the knobs, their checks and the scoring.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from api.kendra import shapes
from api.kendra.errors import validation
from search.errors import BadRequest
from search.relevance import AttributeRelevance, Relevance, check, kind_of

KNOBS = {
    "Freshness": "freshness",
    "Importance": "importance",
    "Duration": "duration",
    "RankOrder": "rank_order",
    "ValueImportanceMap": "value_importance_map",
}
KENDRA_NAMES = {ours: theirs for theirs, ours in KNOBS.items()}
KIND_OF_TYPE = {
    "STRING_VALUE": "string",
    "STRING_LIST_VALUE": "string",
    "LONG_VALUE": "long",
    "DATE_VALUE": "date",
}
MAX_NAME = 30
"""Kendra's limit on a metadata field's name."""


def to_relevance(raw: Any, path: str) -> Relevance:
    """Kendra's ``Relevance`` object as the core's; errors name Kendra's members."""
    if not isinstance(raw, dict):
        raise validation(f"{path} must be an object")
    unknown = sorted(set(raw) - set(KNOBS))
    if unknown:
        raise validation(f"{path}: unknown members {unknown}")
    try:
        return Relevance.model_validate({KNOBS[k]: v for k, v in raw.items() if v is not None})
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(p) for p in err.get("loc", ())]
        member = KENDRA_NAMES.get(loc[0], loc[0]) if loc else ""
        where = f"{path}.{member}" if member else path
        raise validation(f"{where}: {err.get('msg', 'invalid value')}") from None


def from_relevance(relevance: Relevance) -> dict[str, Any]:
    """The core's tuning as Kendra's ``Relevance`` (members that are set only)."""
    out: dict[str, Any] = {}
    if relevance.freshness is not None:
        out["Freshness"] = relevance.freshness
    if relevance.importance is not None:
        out["Importance"] = relevance.importance
    if relevance.duration is not None:
        out["Duration"] = relevance.duration
    if relevance.rank_order is not None:
        out["RankOrder"] = relevance.rank_order.value
    if relevance.value_importance_map:
        out["ValueImportanceMap"] = dict(relevance.value_importance_map)
    return out


def _check(path: str, relevance: Relevance, kind: str | None) -> None:
    if kind is None:
        return
    try:
        check(path, relevance, kind, KENDRA_NAMES)
    except BadRequest as exc:
        raise validation(str(exc)) from None


def _name(item: dict[str, Any], path: str) -> str:
    name = shapes.required(item, "Name", 200, path)
    try:
        return AttributeRelevance(name=name, relevance=Relevance()).name
    except ValidationError:
        raise validation(f"{path}Name: unknown attribute {name!r}") from None


def overrides(body: dict[str, Any], types: dict[str, str | None]) -> list[AttributeRelevance]:
    """``DocumentRelevanceOverrideConfigurations`` of a Query, checked against field types.

    An attribute no document carries is accepted and has no effect (nothing to reorder).
    """
    key = "DocumentRelevanceOverrideConfigurations"
    out: list[AttributeRelevance] = []
    seen: set[str] = set()
    for i, item in enumerate(shapes.objects(body, key)):
        path = f"{key}[{i}]."
        name = _name(item, path)
        if name in seen:
            raise validation(f"{path}Name: {name!r} is overridden twice")
        seen.add(name)
        if item.get("Relevance") is None:
            raise validation(f"{path}Relevance is required")
        relevance = to_relevance(item["Relevance"], f"{path}Relevance")
        _check(f"{path}Relevance", relevance, kind_of(types.get(name)))
        out.append(AttributeRelevance(name=name, relevance=relevance))
    return out


def updates(
    body: dict[str, Any], types: dict[str, str | None], warnings: list[str]
) -> dict[str, Relevance | None]:
    """``DocumentMetadataConfigurationUpdates`` of UpdateIndex: name → tuning (None: cleared).

    ``Type`` must agree with the attribute's type when documents carry it; otherwise it decides
    which knobs fit. ``Search`` is not stored: every attribute is facetable, sortable and
    displayable in Quarry.
    """
    key = "DocumentMetadataConfigurationUpdates"
    out: dict[str, Relevance | None] = {}
    for i, item in enumerate(shapes.objects(body, key)):
        path = f"{key}[{i}]."
        name = _name(item, path)
        if len(name) > MAX_NAME and not name.startswith("_"):
            raise validation(f"{path}Name: at most {MAX_NAME} characters")
        declared = shapes.required(item, "Type", 20, path)
        if declared not in KIND_OF_TYPE:
            raise validation(f"{path}Type must be one of {sorted(KIND_OF_TYPE)}")
        known = kind_of(types.get(name))
        if known is not None and known != KIND_OF_TYPE[declared]:
            raise validation(
                f"{path}Type: {name} holds {known} values in the index, not {declared}"
            )
        shapes.ignore(item, ("Name", "Type", "Relevance"), warnings, path, silent=("Search",))
        raw = item.get("Relevance")
        if raw is None:
            out[name] = None  # Kendra's default: no boost from this attribute
            continue
        relevance = to_relevance(raw, f"{path}Relevance")
        _check(f"{path}Relevance", relevance, known or KIND_OF_TYPE[declared])
        out[name] = relevance
    return out
