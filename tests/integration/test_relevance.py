"""Relevance tuning on the real Elasticsearch, through the REST API: each knob changes the order
as documented, a query's override beats the index's tuning, changes apply to the next query in
every process, and a boosted document without the query's words never outranks one with them.

Four reports differ only in a team name the query does not hold, so without tuning their order
is the embedding's whim; each test shows a knob picking the first one, and the opposite setting
picking another.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient

from acl import EVERYONE, AccessControlList
from api.app import create_app
from connectors.models import Document
from search.embed import Embedder
from search.faq import DEFAULT_INDEX
from search.relevance import (
    AttributeRelevance,
    Relevance,
    RelevanceSettings,
    RelevanceStore,
)
from search.runtime import Runtime
from search.settings import Settings
from tests.integration.test_api_support import ADMIN, as_user, make_settings
from tests.integration.test_cli import Cli
from tests.stack import prefixed, ready_runtime

pytest_plugins = ["tests.integration.test_api_support"]  # the API fixtures

SOURCE = "tune"
QUERY = "budget report"
PUBLIC = AccessControlList(allow_groups=[EVERYONE])
NOW = datetime.now(UTC)
TEAMS = {
    # id: (team, department, priority, days since the last update, published)
    "tune:alpha": ("Alpha", "Finance", 1, 300, "2021-03-01T00:00:00Z"),
    "tune:beta": ("Beta", "Marketing", 2, 100, "2022-03-01T00:00:00Z"),
    "tune:gamma": ("Gamma", "Sales", 3, 30, "2023-03-01T00:00:00Z"),
    "tune:delta": ("Delta", "Legal", 4, 2, "2024-03-01T00:00:00Z"),
}
MATCHES = set(TEAMS)
NEIGHBOUR = "tune:plan"
"""Close in meaning to the query but holding none of its words; tuned to win everything."""


def documents() -> list[Document]:
    docs = [
        Document(
            id=doc_id,
            title=f"Budget report of the {team} team",
            text=f"Budget report of the {team} team for the third quarter: spending stayed "
            "within the plan and the forecast for next quarter is unchanged.",
            content_type="text/plain",
            attributes={"department": dept, "priority": priority, "published": published},
            modified_at=NOW - timedelta(days=days),
            acl=PUBLIC,
        )
        for doc_id, (team, dept, priority, days, published) in TEAMS.items()
    ]
    docs.append(
        Document(
            id=NEIGHBOUR,
            title="Quarterly finances",
            text="Finances of the quarter: expenses, forecasts and spending per department, "
            "with the money allocated for next quarter.",
            content_type="text/plain",
            attributes={"department": "Treasury", "priority": 99, "published": "2025-06-01"},
            modified_at=NOW,
            acl=PUBLIC,
        )
    )
    return docs


@pytest.fixture(scope="module")
def rt(settings: Settings, es: Elasticsearch, embedder: Embedder) -> Runtime:
    runtime = ready_runtime(prefixed(settings, "tuning"), embedder)
    stats = runtime.pipeline.write_batch(SOURCE, documents())
    assert not stats.failed
    runtime.writer.refresh()
    return runtime


@pytest.fixture(scope="module")
def client(rt: Runtime, jwt_secret_file: Path) -> Iterator[TestClient]:
    app = create_app(make_settings(rt.settings, jwt_secret_file), runtime=rt)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
        test_client.delete("/v1/index/relevance", headers=ADMIN)


def tune(client: TestClient, *attributes: dict[str, Any]) -> None:
    response = client.put(
        "/v1/index/relevance", json={"attributes": list(attributes)}, headers=ADMIN
    )
    assert response.status_code == 200, response.text


def ranked(client: TestClient, text: str = QUERY, **body: Any) -> list[str]:
    response = client.post(
        "/v1/query",
        json={"query_text": text, "user_context": as_user("erin"), "page_size": 20, **body},
    )
    assert response.status_code == 200, response.text
    return [r["id"] for r in response.json()["results"]]


def matches(order: list[str]) -> list[str]:
    return [d for d in order if d in MATCHES]


@pytest.fixture(autouse=True)
def untuned(client: TestClient) -> Iterator[None]:
    client.delete("/v1/index/relevance", headers=ADMIN)
    yield
    client.delete("/v1/index/relevance", headers=ADMIN)


def test_string_importance_boosts_documents_whose_value_holds_a_query_word(
    client: TestClient,
) -> None:
    tune(client, {"name": "department", "relevance": {"importance": 10}})
    assert ranked(client, f"{QUERY} legal")[0] == "tune:delta"
    assert ranked(client, f"{QUERY} finance")[0] == "tune:alpha"
    # Without the tuning the department plays no part (the query's word is in no text).
    client.delete("/v1/index/relevance", headers=ADMIN)
    assert ranked(client, f"{QUERY} legal")[0] != "tune:delta"


def test_value_importance_map_boosts_the_listed_values(client: TestClient) -> None:
    tune(client, {"name": "department", "relevance": {"value_importance_map": {"Sales": 10}}})
    assert ranked(client)[0] == "tune:gamma"
    tune(
        client,
        {"name": "department", "relevance": {"value_importance_map": {"Finance": 10, "Sales": 5}}},
    )
    assert matches(ranked(client))[:2] == ["tune:alpha", "tune:gamma"]


def test_number_rank_order(client: TestClient) -> None:
    tune(client, {"name": "priority", "relevance": {"importance": 10, "rank_order": "ASCENDING"}})
    assert matches(ranked(client)) == ["tune:delta", "tune:gamma", "tune:beta", "tune:alpha"]
    tune(client, {"name": "priority", "relevance": {"importance": 10, "rank_order": "DESCENDING"}})
    assert matches(ranked(client)) == ["tune:alpha", "tune:beta", "tune:gamma", "tune:delta"]


def test_date_rank_order_without_freshness(client: TestClient) -> None:
    tune(client, {"name": "published", "relevance": {"importance": 10, "rank_order": "DESCENDING"}})
    assert matches(ranked(client))[:2] == ["tune:alpha", "tune:beta"]


def test_freshness_ranks_newer_documents_first(client: TestClient) -> None:
    tune(
        client,
        {
            "name": "_last_updated_at",
            "relevance": {"importance": 10, "freshness": True, "duration": "2628000s"},
        },
    )
    assert matches(ranked(client))[:2] == ["tune:delta", "tune:gamma"]
    # A half-life of a year barely separates a month from two days: a longer half-life is a
    # gentler boost, and the oldest report still comes last.
    tune(
        client,
        {
            "name": "_last_updated_at",
            "relevance": {"importance": 10, "freshness": True, "duration": "31536000s"},
        },
    )
    assert matches(ranked(client))[-1] == "tune:alpha"


def test_a_query_override_beats_the_index_setting(client: TestClient) -> None:
    tune(client, {"name": "_last_updated_at", "relevance": {"importance": 10, "freshness": True}})
    assert matches(ranked(client))[0] == "tune:delta"
    override = [
        {"name": "_last_updated_at", "relevance": {"importance": 10, "rank_order": "DESCENDING"}}
    ]
    assert matches(ranked(client, relevance_overrides=override))[0] == "tune:alpha"
    # Overrides apply to their query only.
    assert matches(ranked(client))[0] == "tune:delta"
    # With no index tuning at all, an override alone tunes the query.
    client.delete("/v1/index/relevance", headers=ADMIN)
    assert matches(ranked(client))[0] != "tune:delta"
    override = [{"name": "department", "relevance": {"value_importance_map": {"Legal": 10}}}]
    assert ranked(client, relevance_overrides=override)[0] == "tune:delta"


def test_a_boosted_document_without_the_query_words_never_outranks_a_match(
    client: TestClient,
) -> None:
    untuned_order = ranked(client)
    assert NEIGHBOUR in untuned_order  # shown: close enough in meaning
    # Everything favours the neighbour: its department, the highest priority, the newest date.
    tune(
        client,
        {"name": "department", "relevance": {"value_importance_map": {"Treasury": 10}}},
        {"name": "priority", "relevance": {"importance": 10}},
        {"name": "_last_updated_at", "relevance": {"importance": 10, "freshness": True}},
    )
    order = ranked(client)
    assert set(order[:4]) == MATCHES
    assert order.index(NEIGHBOUR) == 4
    # Totals and facets count the same documents with or without tuning.
    facets = [{"attribute": "department"}]
    with_tuning = client.post(
        "/v1/query", json={"query_text": QUERY, "user_context": as_user("erin"), "facets": facets}
    ).json()
    client.delete("/v1/index/relevance", headers=ADMIN)
    without = client.post(
        "/v1/query", json={"query_text": QUERY, "user_context": as_user("erin"), "facets": facets}
    ).json()
    assert with_tuning["total"] == without["total"] == len(untuned_order)
    assert with_tuning["facets"] == without["facets"]


def test_settings_round_trip_and_need_the_admin_key(client: TestClient) -> None:
    body = {
        "attributes": [
            {"name": "priority", "relevance": {"importance": 3, "rank_order": "DESCENDING"}},
            {"name": "department", "relevance": {"value_importance_map": {"Legal": 7}}},
        ]
    }
    assert client.put("/v1/index/relevance", json=body).status_code == 401
    assert client.get("/v1/index/relevance").status_code == 401
    assert client.put("/v1/index/relevance", json=body, headers=ADMIN).status_code == 200
    got = client.get("/v1/index/relevance", headers=ADMIN).json()
    assert got["attributes"][0]["relevance"]["rank_order"] == "DESCENDING"
    assert got["attributes"][1]["relevance"]["value_importance_map"] == {"Legal": 7}
    assert client.delete("/v1/index/relevance", headers=ADMIN).status_code == 204
    assert client.get("/v1/index/relevance", headers=ADMIN).json() == {"attributes": []}
    paths = client.get("/openapi.json").json()["paths"]
    assert {"get", "put", "delete"} <= set(paths["/v1/index/relevance"])


@pytest.mark.parametrize(
    ("relevance", "field"),
    [
        ({"importance": 11}, "importance"),
        ({"importance": 0}, "importance"),
        ({"freshness": True, "duration": "a month"}, "duration"),
        ({"value_importance_map": {"Legal": 12}}, "value_importance_map"),
        ({"rank_order": "UP"}, "rank_order"),
    ],
)
def test_bad_knobs_are_refused_naming_the_field(
    client: TestClient, relevance: dict[str, Any], field: str
) -> None:
    item = {"name": "priority", "relevance": relevance}
    put = client.put("/v1/index/relevance", json={"attributes": [item]}, headers=ADMIN)
    assert put.status_code == 422, put.text
    assert field in put.text
    query = client.post(
        "/v1/query",
        json={"query_text": QUERY, "user_context": as_user("erin"), "relevance_overrides": [item]},
    )
    assert query.status_code == 422, query.text
    assert field in query.text


def test_knobs_that_do_not_fit_the_attribute_type_are_refused(client: TestClient) -> None:
    wrong = {"name": "department", "relevance": {"freshness": True}}
    put = client.put("/v1/index/relevance", json={"attributes": [wrong]}, headers=ADMIN)
    assert put.status_code == 400, put.text
    assert "attributes[0].relevance.freshness" in put.text
    query = client.post(
        "/v1/query",
        json={"query_text": QUERY, "user_context": as_user("erin"), "relevance_overrides": [wrong]},
    )
    assert query.status_code == 400, query.text
    assert "relevance_overrides[0].relevance.freshness" in query.text
    malformed = {"name": "_no_such_reserved", "relevance": {"importance": 5}}
    put = client.put("/v1/index/relevance", json={"attributes": [malformed]}, headers=ADMIN)
    assert put.status_code == 422 and "unknown attribute" in put.text


def test_an_attribute_no_document_carries_is_accepted_and_changes_nothing(
    client: TestClient,
) -> None:
    before = ranked(client)
    override = [{"name": "not_carried", "relevance": {"importance": 10}}]
    assert ranked(client, relevance_overrides=override) == before


def test_a_change_reaches_another_process_at_its_next_query(rt: Runtime) -> None:
    """Two stores over one index stand for two API processes: each reads the current version."""
    name = rt.settings.system_index("relevance")
    first, second = RelevanceStore(rt.es, name), RelevanceStore(rt.es, name)
    one = RelevanceSettings(
        attributes=[AttributeRelevance(name="priority", relevance=Relevance(importance=2))]
    )
    first.put(DEFAULT_INDEX, one)
    assert second.get(DEFAULT_INDEX) == one  # cached in ``second`` from here on
    two = RelevanceSettings(
        attributes=[AttributeRelevance(name="priority", relevance=Relevance(importance=9))]
    )
    first.put(DEFAULT_INDEX, two)
    assert second.get(DEFAULT_INDEX) == two
    first.delete(DEFAULT_INDEX)
    assert second.get(DEFAULT_INDEX) == RelevanceSettings()


def test_cli_sets_shows_and_clears_the_tuning(
    rt: Runtime, client: TestClient, tmp_path: Path
) -> None:
    cli = Cli(rt.settings)
    spec = tmp_path / "tuning.yaml"
    spec.write_text(
        "attributes:\n"
        "  - name: department\n"
        "    relevance:\n"
        "      value_importance_map: {Legal: 10}\n"
    )
    run = cli("index", "relevance", "set", str(spec))
    assert run.returncode == 0, run.stderr
    assert ranked(client)[0] == "tune:delta"  # the API process sees the CLI's change at once
    shown = cli.json("index", "relevance", "show")
    assert shown == {
        "attributes": [{"name": "department", "relevance": {"value_importance_map": {"Legal": 10}}}]
    }
    spec.write_text("attributes:\n  - name: department\n    relevance: {importance: 12}\n")
    run = cli("index", "relevance", "set", str(spec))
    assert run.returncode == 2
    assert "importance" in run.stderr
    run = cli("index", "relevance", "clear", "--yes")
    assert run.returncode == 0, run.stderr
    assert cli.json("index", "relevance", "show") == {"attributes": []}
