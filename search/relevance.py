"""Relevance tuning: importance and freshness of document attributes (Kendra's ``Relevance``).

An administrator gives attributes of an index an importance (1-10), a rank order for numbers
and dates, a freshness half-life for a date, or an importance per string value; a query may
override any attribute's tuning for itself (Kendra's ``DocumentRelevanceOverrideConfigurations``).
The settings live in one system index record per index id and are read on every query (a
realtime get, parsed again only when the record's version moved), so a change applies to the
next query in every API process, without re-indexing.

How a tuned attribute scores a document, each in [0, 1], weighted by importance / 10:

- string (and string list): 1 when one of the document's values shares a word with the query;
  a value listed in ``value_importance_map`` scores that value's importance instead.
- number, or date without freshness: the value's rank among the values of the reranked
  candidates (0 for the lowest, 1 for the highest, so one outlier does not flatten the rest);
  ``ASCENDING`` (the default) ranks higher values first, ``DESCENDING`` lower ones (Kendra's
  meaning of ``RankOrder``).
- date with freshness: 0.5 ** (age / duration): ``duration`` is the half-life (default one
  month, ``2628000s``); a document dated now or later scores 1.

The weighted sum, divided by the sum of the attributes' largest weights once that exceeds 1
(so several attributes share the boost rather than all saturating it), times ``MAX_BOOST``, is
added to the rerank's score
(``search.engine``). It reorders documents only within their tier: a document holding a word of
the query always ranks above a boosted one that holds none (exact matches first), and totals and
facets do not change.
"""

from __future__ import annotations

import bisect
import contextlib
import re
import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from search.errors import BadRequest
from search.mapping import field_for
from search.system_index import SystemIndex

MAX_BOOST = 0.3
"""The most tuning adds to a reranked score (whose blend of lexical and dense evidence spans
[-1, 1]): enough to reorder close documents, never enough to change a tier."""
MAX_ATTRIBUTES = 100
MAX_VALUES = 100
DEFAULT_IMPORTANCE = 5
DEFAULT_DURATION = "2628000s"
_DURATION = re.compile(r"^[0-9]{1,10}s$")
_WORD = re.compile(r"\w+", re.UNICODE)


class RankOrder(str, Enum):
    """Kendra's ``RankOrder``: ``ASCENDING`` ranks higher values first, ``DESCENDING`` lower."""

    ASCENDING = "ASCENDING"
    DESCENDING = "DESCENDING"


class Relevance(BaseModel):
    """How one attribute boosts documents (Kendra's ``Relevance``)."""

    model_config = ConfigDict(extra="forbid")

    importance: int | None = Field(
        default=None,
        ge=1,
        le=10,
        description="1-10: how much the attribute boosts (default 5 when another knob is set).",
    )
    freshness: bool | None = Field(
        default=None, description="Date attributes: newer documents rank higher."
    )
    duration: str | None = Field(
        default=None,
        description="With freshness: the half-life of the boost in seconds, like '2628000s' "
        "(one month, the default).",
    )
    rank_order: RankOrder | None = Field(
        default=None,
        description="Numbers and dates without freshness: ASCENDING (higher values rank higher, "
        "the default) or DESCENDING.",
    )
    value_importance_map: dict[str, int] = Field(
        default_factory=dict,
        max_length=MAX_VALUES,
        description="String attributes: documents with one of these values get its importance "
        "(1-10), whatever the query.",
    )

    @field_validator("duration")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not _DURATION.match(value) or int(value[:-1]) == 0:
            raise ValueError(f"a whole number of seconds like '2628000s', got {value!r}")
        return value

    @field_validator("value_importance_map")
    @classmethod
    def _values(cls, values: dict[str, int]) -> dict[str, int]:
        for key, importance in values.items():
            if not key or len(key) > 1024:
                raise ValueError("each value needs 1 to 1024 characters")
            if not isinstance(importance, int) or not 1 <= importance <= 10:
                raise ValueError(f"the importance of {key!r} must be 1 to 10, got {importance!r}")
        return values

    @model_validator(mode="after")
    def _together(self) -> Relevance:
        if self.duration is not None and not self.freshness:
            raise ValueError("duration applies only with freshness: true")
        return self

    @property
    def half_life_s(self) -> float:
        return float(int((self.duration or DEFAULT_DURATION)[:-1]))

    @property
    def weight(self) -> float:
        return (self.importance or DEFAULT_IMPORTANCE) / 10.0

    @property
    def top_weight(self) -> float:
        """The most this attribute can weigh for a document (a listed value may outweigh it)."""
        mapped = max(self.value_importance_map.values(), default=0) / 10.0
        if self.importance is None and self.value_importance_map:
            return mapped
        return max(self.weight, mapped)


class AttributeRelevance(BaseModel):
    """One attribute's tuning (Kendra's ``DocumentRelevanceConfiguration``)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, description="The attribute's name.")
    relevance: Relevance

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if value == "_document_id":
            raise ValueError("_document_id cannot be tuned")
        try:
            field_for(value)
        except BadRequest as exc:
            raise ValueError(str(exc)) from None
        return value


def unique(items: list[AttributeRelevance]) -> list[AttributeRelevance]:
    names = [i.name for i in items]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"each attribute appears once, repeated: {repeated}")
    return items


class RelevanceSettings(BaseModel):
    """An index's relevance tuning: the attributes that boost documents in every query."""

    model_config = ConfigDict(extra="forbid")

    attributes: list[AttributeRelevance] = Field(default_factory=list, max_length=MAX_ATTRIBUTES)

    @field_validator("attributes")
    @classmethod
    def _once(cls, items: list[AttributeRelevance]) -> list[AttributeRelevance]:
        return unique(items)

    def by_name(self) -> dict[str, Relevance]:
        return {a.name: a.relevance for a in self.attributes}


def overrides_field() -> Any:
    """The query bodies' ``relevance_overrides`` field (REST; Kendra's query-time overrides)."""
    return Field(
        default_factory=list,
        max_length=MAX_ATTRIBUTES,
        description="Tuning for this query only: each attribute listed replaces the index's "
        "tuning of it (GET /v1/index/relevance). An attribute no document carries is ignored.",
    )


# ----- checking tuning against the attributes' types
KINDS = ("string", "long", "date")


def kind_of(es_type: str | None) -> str | None:
    """``string``, ``long`` (any number) or ``date``; ``None`` when unknown or not tunable."""
    if es_type in ("keyword", "text", "constant_keyword"):
        return "string"
    if es_type in ("long", "integer", "short", "byte", "double", "float", "half_float"):
        return "long"
    if es_type == "date":
        return "date"
    return None


def check(
    what: str, relevance: Relevance, kind: str, names: Mapping[str, str] | None = None
) -> None:
    """Refuse knobs that mean nothing for the attribute's type; ``what`` names the field and
    ``names`` the knobs as the face spells them (Kendra's ``Freshness``)."""
    named = dict(names or {})

    def name(knob: str) -> str:
        return f"{what}.{named.get(knob, knob)}"

    if relevance.freshness and kind != "date":
        raise BadRequest(f"{name('freshness')}: only a date attribute has freshness ({kind})")
    if relevance.rank_order is not None and kind == "string":
        raise BadRequest(f"{name('rank_order')}: only numbers and dates have a rank order")
    if relevance.value_importance_map and kind != "string":
        raise BadRequest(f"{name('value_importance_map')}: only string attributes map values")


def check_all(
    what: str, items: Iterable[AttributeRelevance], types: Mapping[str, str | None]
) -> None:
    """Each item's knobs against its attribute's type (``types``: Elasticsearch's); an
    attribute no document carries yet is accepted and checked once one does."""
    kinds = {name: kind_of(t) for name, t in types.items()}
    for i, item in enumerate(items):
        kind = kinds.get(item.name)
        if kind is not None:
            check(f"{what}[{i}].relevance", item.relevance, kind)


# ----- scoring
class Boosts:
    """The resolved tuning of one query: attribute → (field, kind, relevance)."""

    def __init__(self, tuned: dict[str, tuple[str, str, Relevance]], query_text: str) -> None:
        self.tuned = tuned
        self.words = {w.lower() for w in _WORD.findall(query_text)}
        self.scale = max(1.0, sum(r.top_weight for _, _, r in tuned.values()))

    def __bool__(self) -> bool:
        return bool(self.tuned)

    def scores(
        self, values: Mapping[str, Mapping[str, list[Any]]], now: datetime | None = None
    ) -> dict[str, float]:
        """Each document's boost in [0, MAX_BOOST] from its field values (``doc → field → values``)."""
        now_ms = (now or datetime.now(UTC)).timestamp() * 1000.0
        ranks: dict[str, list[float]] = {}
        for field, kind, relevance in self.tuned.values():
            if kind == "long" or (kind == "date" and not relevance.freshness):
                numbers = [_number(v) for doc in values.values() for v in doc.get(field, [])]
                ranks[field] = sorted({n for n in numbers if n is not None})
        out: dict[str, float] = {}
        for doc_id, fields in values.items():
            total = 0.0
            for field, kind, relevance in self.tuned.values():
                found = fields.get(field) or []
                if found:
                    total += self._one(found, kind, relevance, ranks.get(field, []), now_ms)
            out[doc_id] = MAX_BOOST * min(1.0, total / self.scale)
        return out

    def _one(
        self,
        found: list[Any],
        kind: str,
        relevance: Relevance,
        ranked: list[float],
        now_ms: float,
    ) -> float:
        if kind == "string":
            mapped = [
                relevance.value_importance_map[v]
                for v in found
                if v in relevance.value_importance_map
            ]
            if mapped:
                return max(mapped) / 10.0
            if relevance.importance is None and relevance.value_importance_map:
                return 0.0  # only the listed values were tuned
            words = {w.lower() for v in found for w in _WORD.findall(str(v))}
            return relevance.weight if words & self.words else 0.0
        numbers = [n for n in (_number(v) for v in found) if n is not None]
        if not numbers:
            return 0.0
        if kind == "date" and relevance.freshness:
            age_s = max(0.0, (now_ms - max(numbers)) / 1000.0)
            return relevance.weight * float(0.5 ** (age_s / relevance.half_life_s))
        if not ranked:
            return 0.0
        descending = relevance.rank_order is RankOrder.DESCENDING
        value = min(numbers) if descending else max(numbers)
        place = 1.0 if len(ranked) == 1 else bisect.bisect_left(ranked, value) / (len(ranked) - 1)
        return relevance.weight * (1.0 - place if descending else place)


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def resolve(
    index: Mapping[str, Relevance],
    overrides: list[AttributeRelevance],
    types: Mapping[str, str | None],
    query_text: str,
) -> Boosts:
    """The index's tuning with the query's overrides on top, checked against the field types.

    An override replaces the index's tuning of that attribute (as in Kendra). Attributes that
    no document carries (unknown type) are left out: they cannot reorder anything. A wrong
    knob for the attribute's type in an override is a 400 naming it.
    """
    kinds = {name: kind_of(t) for name, t in types.items()}
    check_all("relevance_overrides", overrides, types)
    merged = dict(index)
    merged.update({o.name: o.relevance for o in overrides})
    tuned: dict[str, tuple[str, str, Relevance]] = {}
    for name, relevance in merged.items():
        kind = kinds.get(name)
        if kind is None:
            continue
        try:
            check("", relevance, kind)
        except BadRequest:
            continue  # an index setting whose attribute changed type: left out, not fatal
        tuned[name] = (field_for(name), kind, relevance)
    return Boosts(tuned, query_text)


# ----- the settings store
_MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "index_id": {"type": "keyword"},
        "meta": {"type": "object", "enabled": False},
        "updated_at": {"type": "date"},
    },
}


class RelevanceStore(SystemIndex):
    """One tuning record per index id; reads parse the record again only when it changed."""

    index_mappings = _MAPPING

    def __init__(
        self, es: Elasticsearch, index: str, index_settings: dict[str, Any] | None = None
    ) -> None:
        super().__init__(es, index, index_settings)
        self._cache: dict[str, tuple[tuple[int, int], RelevanceSettings]] = {}
        self._cache_lock = threading.Lock()

    def get(self, index_id: str) -> RelevanceSettings:
        """The current tuning (empty when none was set): one realtime get, correct across
        processes because the record's sequence number is its generation."""
        try:
            doc = self.es.get(index=self.index, id=index_id).body
        except NotFoundError:
            return RelevanceSettings()
        return self._parsed(index_id, doc)

    def record_search(self, index_id: str) -> dict[str, Any]:
        """The search for the index's record (``from_response`` reads it), for the query path to
        ask with its other lookups; every write refreshes, so a search sees it at once."""
        return {"size": 1, "query": {"ids": {"values": [index_id]}}, "seq_no_primary_term": True}

    def from_response(self, index_id: str, response: dict[str, Any]) -> RelevanceSettings:
        hits = response.get("hits", {}).get("hits", [])
        return self._parsed(index_id, hits[0]) if hits else RelevanceSettings()

    def _parsed(self, index_id: str, doc: dict[str, Any]) -> RelevanceSettings:
        version = (int(doc.get("_seq_no", -1)), int(doc.get("_primary_term", -1)))
        with self._cache_lock:
            hit = self._cache.get(index_id)
            if hit is not None and hit[0] == version:
                return hit[1]
        settings = RelevanceSettings.model_validate(doc["_source"]["meta"])
        with self._cache_lock:
            self._cache[index_id] = (version, settings)
        return settings

    def put(self, index_id: str, settings: RelevanceSettings) -> RelevanceSettings:
        """Replace the index's tuning; the next query (in any process) uses it."""
        self.ensure()
        self.es.index(
            index=self.index,
            id=index_id,
            document={
                "index_id": index_id,
                "meta": settings.model_dump(mode="json", exclude_none=True),
                "updated_at": datetime.now(UTC).isoformat(),
            },
            refresh="true",
        )
        return settings

    def update(self, index_id: str, changes: Mapping[str, Relevance | None]) -> RelevanceSettings:
        """Set (or, with ``None``, clear) some attributes' tuning and keep the others'."""
        current = self.get(index_id).by_name()
        for name, relevance in changes.items():
            if relevance is None:
                current.pop(name, None)
            else:
                current[name] = relevance
        settings = RelevanceSettings(
            attributes=[AttributeRelevance(name=n, relevance=r) for n, r in current.items()]
        )
        return self.put(index_id, settings)

    def delete(self, index_id: str) -> None:
        with contextlib.suppress(NotFoundError):
            self.es.delete(index=self.index, id=index_id, refresh="true")
