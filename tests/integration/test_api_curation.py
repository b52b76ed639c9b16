"""FAQ answers and featured results through the REST API, on the session's real Elasticsearch.

FAQs are answered on top of a query to their audience only; pinned documents come first only
for users who may read them, and are never repeated in the ranked results.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.test_api_support import ADMIN, as_user

pytest_plugins = ["tests.integration.test_api_support"]  # the API fixtures

EVE = as_user("eve", ["GROUP_executives"])
ERIN = as_user("erin")  # engineering through platform, for this source's documents only

CSV_FAQ = (
    "How many vacation days do I get per year?,Twenty days of paid vacation a year.,"
    "https://intranet.example/hr/vacation\n"
    '"Where do I submit travel expenses?","In the expenses portal, within 30 days."\n'
)
JSON_FAQ = json.dumps(
    {
        "SchemaVersion": 1,
        "FaqDocuments": [
            {
                "Question": "When are executive bonuses paid?",
                "Answer": "Executive bonuses are paid in March after the review cycle.",
                "Attributes": {"_source_uri": "https://intranet.example/exec", "topic": "pay"},
                "AccessControlList": [
                    {"Name": "GROUP_executives", "Type": "GROUP", "Access": "ALLOW"}
                ],
            },
            {
                "Question": "Who approves my laptop refresh?",
                "Answer": "Dana approves laptop refreshes.",
                "AccessControlList": [{"Name": "dana", "Type": "USER", "Access": "ALLOW"}],
            },
        ],
    }
)
HEADER_FAQ = (
    "_question,_answer,_source_uri,team\n"
    "How do I roll back a Kubernetes deployment?,Run kubectl rollout undo.,,platform\n"
)


def query(client: TestClient, text: str, user: dict[str, Any] | None = None, **body: Any) -> Any:
    payload: dict[str, Any] = {"query_text": text, **body}
    if user is not None:
        payload["user_context"] = user
    response = client.post("/v1/query", json=payload)
    assert response.status_code == 200, response.text
    return response.json()


def answers(client: TestClient, text: str, user: dict[str, Any] | None = None) -> list[str]:
    return [a["answer"] for a in query(client, text, user)["faq_answers"]]


def upload(client: TestClient, **spec: Any) -> dict[str, Any]:
    response = client.post("/v1/faqs", json=spec, headers=ADMIN)
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


@pytest.fixture
def faqs(api_client: TestClient, api_corpus: list[str]) -> Iterator[list[dict[str, Any]]]:
    made = [
        upload(api_client, name="hr", file_format="CSV", content=CSV_FAQ),
        upload(api_client, name="exec", file_format="JSON", content=JSON_FAQ),
        upload(
            api_client,
            name="platform",
            file_format="CSV_WITH_HEADER",
            content=HEADER_FAQ,
            audience_groups=["GROUP_oncall"],
        ),
    ]
    yield made
    for faq in made:
        api_client.delete(f"/v1/faqs/{faq['id']}", headers=ADMIN)


def test_a_matching_question_is_answered_on_top_lexically_and_by_meaning(
    api_client: TestClient, faqs: list[dict[str, Any]]
) -> None:
    found = query(api_client, "how many vacation days do I get per year")
    assert found["faq_answers"][0]["type"] == "QUESTION_ANSWER"
    assert found["faq_answers"][0]["answer"] == "Twenty days of paid vacation a year."
    assert found["faq_answers"][0]["uri"] == "https://intranet.example/hr/vacation"
    assert found["results"], "the ranked documents are still there"
    # The same question in other words.
    assert answers(api_client, "how many days of vacation per year do I get?") == [
        "Twenty days of paid vacation a year."
    ]
    assert answers(api_client, "where should I submit my travel expenses") == [
        "In the expenses portal, within 30 days."
    ]
    # Unrelated queries and mere topic words are not answered by an FAQ.
    assert answers(api_client, "kubernetes liveness probes") == []
    assert answers(api_client, "database outage") == []


def test_an_faq_with_an_audience_is_shown_only_to_it(
    api_client: TestClient, faqs: list[dict[str, Any]]
) -> None:
    bonus = "Executive bonuses are paid in March after the review cycle."
    assert answers(api_client, "when are executive bonuses paid", EVE) == [bonus]
    assert answers(api_client, "when are executive bonuses paid") == []
    assert answers(api_client, "when are executive bonuses paid", ERIN) == []
    laptop = "Dana approves laptop refreshes."
    assert answers(api_client, "who approves my laptop refresh", as_user("dana")) == [laptop]
    assert answers(api_client, "who approves my laptop refresh", EVE) == []
    # A whole upload's audience: global (token) groups only.
    rollback = "Run kubectl rollout undo."
    oncall = as_user("olga", ["GROUP_oncall"])
    found = query(api_client, "how do I roll back a kubernetes deployment", oncall)["faq_answers"]
    assert [a["answer"] for a in found] == [rollback]
    assert found[0]["attributes"] == {"team": "platform"}
    assert answers(api_client, "how do I roll back a kubernetes deployment", ERIN) == []


def test_faqs_are_listed_described_and_deleted(
    api_client: TestClient, faqs: list[dict[str, Any]]
) -> None:
    listed = api_client.get("/v1/faqs", headers=ADMIN).json()
    assert {f["name"] for f in listed} >= {"hr", "exec", "platform"}
    hr = faqs[0]
    described = api_client.get(f"/v1/faqs/{hr['id']}", headers=ADMIN).json()
    assert described["entry_count"] == 2 and described["file_format"] == "CSV"
    assert api_client.delete(f"/v1/faqs/{hr['id']}", headers=ADMIN).status_code == 200
    assert api_client.get(f"/v1/faqs/{hr['id']}", headers=ADMIN).status_code == 404
    assert api_client.delete(f"/v1/faqs/{hr['id']}", headers=ADMIN).status_code == 404
    assert answers(api_client, "how many vacation days do I get per year") == []
    assert api_client.get("/v1/faqs").status_code == 401


@pytest.mark.parametrize(
    ("file_format", "content", "named"),
    [
        ("CSV", "only a question\n", "line 1"),
        ("CSV_WITH_HEADER", "question,answer\nq,a\n", "_question"),
        ("JSON", "{not json", "not JSON"),
        ("JSON", json.dumps({"FaqDocuments": [{"Question": "q"}]}), "FaqDocuments[0]"),
        (
            "JSON",
            json.dumps(
                {
                    "FaqDocuments": [
                        {
                            "Question": "q",
                            "Answer": "a",
                            "AccessControlList": [{"Name": "x", "Type": "GROUP", "Access": "DENY"}],
                        }
                    ]
                }
            ),
            "only ALLOW",
        ),
    ],
)
def test_a_bad_faq_file_is_refused_naming_the_cause(
    api_client: TestClient, api_corpus: list[str], file_format: str, content: str, named: str
) -> None:
    before = len(api_client.get("/v1/faqs", headers=ADMIN).json())
    response = api_client.post(
        "/v1/faqs",
        json={"name": "bad", "file_format": file_format, "content": content},
        headers=ADMIN,
    )
    assert response.status_code == 400, response.text
    assert named in response.json()["error"]["message"]
    assert len(api_client.get("/v1/faqs", headers=ADMIN).json()) == before


def pin(client: TestClient, **spec: Any) -> dict[str, Any]:
    response = client.post("/v1/featured-results", json=spec, headers=ADMIN)
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


@pytest.fixture
def featured(api_client: TestClient, api_corpus: list[str]) -> Iterator[list[dict[str, Any]]]:
    made = [
        pin(
            api_client,
            name="pay",
            query_texts=["Compensation  Policy"],
            document_ids=["corpus:salaries", "corpus:vacation"],
        ),
        pin(
            api_client,
            name="newcomers",
            query_terms=["welcome"],
            document_ids=["corpus:onboarding"],
        ),
    ]
    yield made
    for s in made:
        api_client.delete(f"/v1/featured-results/{s['id']}", headers=ADMIN)


def test_pinned_documents_come_first_only_for_readers_and_never_twice(
    api_client: TestClient, featured: list[dict[str, Any]]
) -> None:
    plain = query(api_client, "vacation policy", page_size=50)
    assert "corpus:vacation" in {r["id"] for r in plain["results"]}

    anonymous = query(api_client, "compensation policy", page_size=50)
    assert [r["id"] for r in anonymous["featured_results"]] == ["corpus:vacation"]
    assert anonymous["featured_results"][0]["featured"] is True
    assert "corpus:vacation" not in {r["id"] for r in anonymous["results"]}

    eve = query(api_client, "  compensation POLICY ", EVE, page_size=50)
    assert [r["id"] for r in eve["featured_results"]] == ["corpus:salaries", "corpus:vacation"]
    ranked = {r["id"] for r in eve["results"]}
    assert not ranked & {"corpus:salaries", "corpus:vacation"}
    # The ranked total does not count the pinned documents again.
    unpinned = query(api_client, "compensation", EVE, page_size=50)
    assert "corpus:salaries" in {r["id"] for r in unpinned["results"]}
    assert eve["total"] == len(eve["results"])

    mallory = query(api_client, "compensation policy", as_user("mallory", ["GROUP_executives"]))
    assert [r["id"] for r in mallory["featured_results"]] == ["corpus:vacation"]
    # A query term pins for every query holding the word; page 2 shows no featured results.
    assert [r["id"] for r in query(api_client, "welcome pack")["featured_results"]] == [
        "corpus:onboarding"
    ]
    assert query(api_client, "welcome pack", page_number=2)["featured_results"] == []
    assert query(api_client, "compensation")["featured_results"] == []


def test_featured_sets_are_managed_and_one_query_belongs_to_one_active_set(
    api_client: TestClient, featured: list[dict[str, Any]]
) -> None:
    pay = featured[0]
    clash = api_client.post(
        "/v1/featured-results",
        json={"name": "other", "query_texts": ["compensation policy"], "document_ids": ["x"]},
        headers=ADMIN,
    )
    assert clash.status_code == 409, clash.text
    too_many = api_client.post(
        "/v1/featured-results",
        json={"name": "big", "query_texts": ["q"], "document_ids": ["a", "b", "c", "d", "e"]},
        headers=ADMIN,
    )
    assert too_many.status_code == 422 and "document_ids" in too_many.text
    assert (
        api_client.get(f"/v1/featured-results/{pay['id']}", headers=ADMIN).json()["name"] == "pay"
    )
    listed = {s["id"] for s in api_client.get("/v1/featured-results", headers=ADMIN).json()}
    assert {s["id"] for s in featured} <= listed

    updated = api_client.put(
        f"/v1/featured-results/{pay['id']}",
        json={**{k: pay[k] for k in ("name", "query_texts", "document_ids")}, "status": "INACTIVE"},
        headers=ADMIN,
    )
    assert updated.status_code == 200, updated.text
    assert query(api_client, "compensation policy", EVE)["featured_results"] == []
    assert api_client.delete(f"/v1/featured-results/{pay['id']}", headers=ADMIN).status_code == 200
    assert api_client.get(f"/v1/featured-results/{pay['id']}", headers=ADMIN).status_code == 404


def test_openapi_documents_the_curation_routes_and_answer_fields(api_client: TestClient) -> None:
    spec = api_client.get("/openapi.json").json()
    for path in (
        "/v1/faqs",
        "/v1/faqs/{faq_id}",
        "/v1/featured-results",
        "/v1/featured-results/{set_id}",
    ):
        assert path in spec["paths"], path
    schemas = spec["components"]["schemas"]
    assert {
        "FaqSpec",
        "Faq",
        "FeaturedSetSpec",
        "FeaturedSet",
        "FaqAnswer",
        "SuggestedAnswer",
    } <= set(schemas)
    response = schemas["QueryResponse"]["properties"]
    assert {"answers", "faq_answers", "featured_results"} <= set(response)
    assert "file_format" in schemas["FaqSpec"]["properties"]
