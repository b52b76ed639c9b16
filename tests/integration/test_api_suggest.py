"""Suggestions never reveal what a user cannot read; feedback is stored against its query."""

from __future__ import annotations

from typing import Any

from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient

from search.runtime import Runtime
from tests.integration.test_api_support import as_user

pytest_plugins = ["tests.integration.test_api_support"]  # the API fixtures

SALARY_TITLE = "Executive salary bands 2025"


def suggestions(
    api_client: TestClient, prefix: str, user_context: dict[str, Any] | None = None
) -> list[dict[str, str]]:
    body: dict[str, Any] = {"query_text": prefix, "max_suggestions": 10}
    if user_context is not None:
        body["user_context"] = user_context
    response = api_client.post("/v1/suggest", json=body)
    assert response.status_code == 200, response.text
    found: list[dict[str, str]] = response.json()["suggestions"]
    return found


def texts(found: list[dict[str, str]]) -> list[str]:
    return [s["text"] for s in found]


def refresh_queries(es: Elasticsearch, runtime: Runtime) -> None:
    es.indices.refresh(index=runtime.settings.system_index("queries"))


def test_titles_are_suggested_only_to_readers(
    api_client: TestClient, api_corpus: list[str]
) -> None:
    assert SALARY_TITLE in texts(
        suggestions(api_client, "exec", as_user("eve", ["GROUP_executives"]))
    )
    assert SALARY_TITLE in texts(
        suggestions(api_client, "Executive sal", as_user("eve", ["GROUP_executives"]))
    )
    assert SALARY_TITLE not in texts(suggestions(api_client, "exec"))
    assert SALARY_TITLE not in texts(
        suggestions(api_client, "exec", as_user("mallory", ["GROUP_executives"]))
    )
    assert SALARY_TITLE not in texts(
        suggestions(api_client, "exec", as_user("alice", ["GROUP_engineering"]))
    )
    assert "Deploying services on Kubernetes" in texts(
        suggestions(api_client, "deploy", as_user("erin"))
    )
    assert "Deploying services on Kubernetes" not in texts(suggestions(api_client, "deploy"))
    assert "Orphaned document with no access list" not in texts(
        suggestions(api_client, "orph", as_user("eve", ["GROUP_executives"]))
    )


def test_past_queries_are_suggested_only_when_they_find_readable_documents(
    api_client: TestClient, es: Elasticsearch, runtime: Runtime, api_corpus: list[str]
) -> None:
    eve = as_user("eve", ["GROUP_executives"])
    for text in ("executive compensation equity", "Vacation carry over"):
        response = api_client.post("/v1/query", json={"query_text": text, "user_context": eve})
        assert response.status_code == 200 and response.json()["total"] > 0
    # A query that found nothing is never suggested.
    api_client.post(
        "/v1/query", json={"query_text": "vacuum cleaner qwertyzzz", "user_context": eve}
    )
    refresh_queries(es, runtime)

    for_eve = suggestions(api_client, "executive comp", eve)
    assert {"text": "executive compensation equity", "source": "query"} in for_eve
    assert "executive compensation equity" not in texts(suggestions(api_client, "executive comp"))
    assert "executive compensation equity" not in texts(
        suggestions(api_client, "executive comp", as_user("mallory", ["GROUP_executives"]))
    )
    # A past query over public documents helps everyone, even someone who never asked it.
    assert {"text": "vacation carry over", "source": "query"} in suggestions(api_client, "vaca")
    assert "Vacation and paid time off policy" in texts(suggestions(api_client, "vaca"))
    assert "vacuum cleaner qwertyzzz" not in texts(suggestions(api_client, "vacu", eve))


def test_suggest_validates_its_input(api_client: TestClient) -> None:
    response = api_client.post("/v1/suggest", json={"query_text": "ab", "max_suggestions": 500})
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["path"] == "max_suggestions"


def test_feedback_is_stored_with_its_query(
    api_client: TestClient, es: Elasticsearch, runtime: Runtime, api_corpus: list[str]
) -> None:
    answer = api_client.post(
        "/v1/query",
        json={
            "query_text": "travel receipts",
            "user_context": as_user("alice", ["GROUP_engineering"]),
        },
    ).json()
    query_id = answer["query_id"]
    top = answer["results"][0]["id"]
    response = api_client.post(
        "/v1/feedback",
        json={
            "query_id": query_id,
            "clicks": [{"result_id": top, "clicked_at": "2025-06-01T12:00:00Z"}],
            "relevance": [
                {"result_id": top, "relevant": True},
                {"result_id": "corpus:vacation", "relevant": False},
            ],
        },
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"query_id": query_id, "stored": 3}
    index = runtime.settings.system_index("feedback")
    es.indices.refresh(index=index)
    hits = es.search(index=index, query={"term": {"query_id": query_id}}, size=10).body["hits"][
        "hits"
    ]
    stored = sorted(
        (h["_source"]["kind"], h["_source"]["result_id"], h["_source"].get("relevant"))
        for h in hits
    )
    assert top == "corpus:expenses"
    assert stored == [
        ("click", top, None),
        ("relevance", top, True),
        ("relevance", "corpus:vacation", False),
    ]
    assert all(
        h["_source"]["user"] == "alice" and h["_source"]["query_text"] == "travel receipts"
        for h in hits
    )

    # Judging again replaces the earlier judgement instead of piling up.
    api_client.post(
        "/v1/feedback",
        json={"query_id": query_id, "relevance": [{"result_id": top, "relevant": False}]},
    )
    es.indices.refresh(index=index)
    judged = es.search(
        index=index,
        size=10,
        query={
            "bool": {
                "filter": [
                    {"term": {"query_id": query_id}},
                    {"term": {"kind": "relevance"}},
                    {"term": {"result_id": top}},
                ]
            }
        },
    ).body["hits"]["hits"]
    assert [h["_source"]["relevant"] for h in judged] == [False]


def test_feedback_for_an_unknown_query_is_404(
    api_client: TestClient, api_corpus: list[str]
) -> None:
    response = api_client.post(
        "/v1/feedback",
        json={"query_id": "f" * 32, "relevance": [{"result_id": "x", "relevant": True}]},
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    empty = api_client.post("/v1/feedback", json={"query_id": "f" * 32})
    assert empty.status_code == 422


def test_a_past_query_about_something_hidden_is_not_suggested_for_its_common_word(
    api_client: TestClient, es: Elasticsearch, runtime: Runtime, api_corpus: list[str]
) -> None:
    eve = as_user("eve", ["GROUP_executives"])
    # "vacation" alone is in public documents; "bonus targets" only in the executives' one.
    for text in ("vacation bonus targets", "executive bonus targets"):
        api_client.post("/v1/query", json={"query_text": text, "user_context": eve})
    refresh_queries(es, runtime)
    assert "executive bonus targets" in texts(suggestions(api_client, "executive bon", eve))
    assert "executive bonus targets" not in texts(suggestions(api_client, "executive bon"))
    assert "vacation bonus targets" not in texts(suggestions(api_client, "vacation bon"))
