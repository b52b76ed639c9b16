"""How each tuning knob scores documents (``search.relevance``), without a backend: the boost a
document gets from its attribute values, as the module documents it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from search.errors import BadRequest
from search.relevance import (
    MAX_BOOST,
    AttributeRelevance,
    Relevance,
    RelevanceSettings,
    resolve,
)

NOW = datetime(2026, 12, 1, tzinfo=UTC)
TYPES: dict[str, str | None] = {
    "dept": "keyword",
    "priority": "long",
    "_last_updated_at": "date",
}


def boosts(text: str = "budget report", **tuning: Relevance) -> dict[str, float]:
    resolved = resolve(tuning, [], TYPES, text)
    return resolved.scores(VALUES, now=NOW)


def ms(days_ago: float) -> str:
    return str(int((NOW - timedelta(days=days_ago)).timestamp() * 1000))


VALUES = {  # doc → index field → doc values, as the engine fetches them
    "a": {"attr.dept": ["Finance"], "attr.priority": [1], "last_updated_at": [ms(60)]},
    "b": {"attr.dept": ["Legal"], "attr.priority": [5], "last_updated_at": [ms(30)]},
    "c": {"attr.dept": ["Sales", "Legal"], "attr.priority": [9], "last_updated_at": [ms(0)]},
    "d": {},
}


def test_string_importance_needs_a_query_word_in_the_value() -> None:
    got = boosts("legal budget", dept=Relevance(importance=10))
    assert got == {"a": 0.0, "b": MAX_BOOST, "c": MAX_BOOST, "d": 0.0}
    assert boosts("budget", dept=Relevance(importance=10))["b"] == 0.0


def test_value_importance_map_scores_listed_values_whatever_the_query() -> None:
    got = boosts(dept=Relevance(value_importance_map={"Legal": 10, "Finance": 5}))
    assert got["b"] == got["c"] == MAX_BOOST
    assert got["a"] == pytest.approx(MAX_BOOST / 2)
    assert got["d"] == 0.0


def test_rank_order_goes_by_rank_among_the_candidates() -> None:
    up = boosts(priority=Relevance(importance=10))
    assert up["a"] == 0.0 and up["b"] == pytest.approx(MAX_BOOST / 2) and up["c"] == MAX_BOOST
    down = boosts(priority=Relevance(importance=10, rank_order="DESCENDING"))
    assert down["a"] == MAX_BOOST and down["c"] == 0.0
    half = boosts(priority=Relevance(importance=5))
    assert half["c"] == pytest.approx(MAX_BOOST / 2)


def test_freshness_halves_with_each_half_life() -> None:
    got = boosts(_last_updated_at=Relevance(importance=10, freshness=True, duration="2592000s"))
    assert got["c"] == pytest.approx(MAX_BOOST)
    assert got["b"] == pytest.approx(MAX_BOOST / 2)
    assert got["a"] == pytest.approx(MAX_BOOST / 4)
    assert got["d"] == 0.0


def test_several_attributes_share_the_bound() -> None:
    got = boosts(
        priority=Relevance(importance=10),
        _last_updated_at=Relevance(importance=10, freshness=True, duration="2592000s"),
    )
    assert got["c"] == pytest.approx(MAX_BOOST)  # best on both
    assert got["b"] == pytest.approx(MAX_BOOST * (0.5 + 0.5) / 2)
    assert max(got.values()) <= MAX_BOOST


def test_an_override_replaces_the_index_tuning_of_its_attribute() -> None:
    index = {"priority": Relevance(importance=10)}
    override = [
        AttributeRelevance(
            name="priority", relevance=Relevance(importance=10, rank_order="DESCENDING")
        )
    ]
    got = resolve(index, override, TYPES, "x").scores(VALUES, now=NOW)
    assert got["a"] == MAX_BOOST and got["c"] == 0.0


def test_unknown_attributes_are_left_out_and_wrong_knobs_refused() -> None:
    assert not resolve({"nowhere": Relevance(importance=10)}, [], TYPES, "x")
    wrong = [AttributeRelevance(name="dept", relevance=Relevance(freshness=True))]
    with pytest.raises(BadRequest, match=r"relevance_overrides\[0\]\.relevance\.freshness"):
        resolve({}, wrong, TYPES, "x")


@pytest.mark.parametrize(
    "relevance",
    [
        {"importance": 0},
        {"importance": 11},
        {"freshness": True, "duration": "30d"},
        {"duration": "60s"},
        {"value_importance_map": {"x": 11}},
        {"rank_order": "SIDEWAYS"},
    ],
)
def test_bad_relevance_is_refused(relevance: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Relevance.model_validate(relevance)


def test_an_attribute_is_tuned_once() -> None:
    item = {"name": "dept", "relevance": {"importance": 2}}
    with pytest.raises(ValidationError, match="repeated"):
        RelevanceSettings.model_validate({"attributes": [item, item]})
