"""Suggested answers: the right sentence of the demo repository, nothing when nothing answers,
and never a sentence the searcher may not read."""

from __future__ import annotations

from typing import Any

import pytest
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient

from bench.answers import evaluate, index_demo, load_questions
from search.embed import Embedder
from search.runtime import Runtime
from search.settings import Settings
from tests.integration.test_api_support import as_user
from tests.stack import ready_runtime

pytest_plugins = ["tests.integration.test_api_support"]  # the API fixtures


@pytest.fixture(scope="module")
def demo_runtime(settings: Settings, es: Elasticsearch, embedder: Embedder) -> Runtime:
    """The demo repository in its own index (the session's cleanup removes it)."""
    own = settings.model_copy(update={"index_prefix": f"{settings.index_prefix}-answers"})
    runtime = ready_runtime(own, embedder)
    index_demo(runtime)
    return runtime


def test_the_demo_questions_get_their_sentence_and_unanswerable_ones_get_none(
    demo_runtime: Runtime,
) -> None:
    questions = load_questions()
    assert sum(1 for _, a in questions if a is not None) >= 40
    score = evaluate(demo_runtime, questions)
    assert score.top1 >= 0.9, score.wrong
    assert score.no_answer_recall == 1.0, score.wrong  # no made-up answer to an unrelated question
    assert score.no_answer_precision >= 0.9, score.wrong


def ask(client: TestClient, text: str, user: dict[str, Any] | None = None) -> Any:
    body: dict[str, Any] = {"query_text": text}
    if user is not None:
        body["user_context"] = user
    response = client.post("/v1/query", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_an_answer_comes_only_from_a_readable_passage_with_its_offsets(
    api_client: TestClient, api_corpus: list[str]
) -> None:
    question = "What do the executive compensation bands include?"
    eve = ask(api_client, question, as_user("eve", ["GROUP_executives"]))
    (answer,) = eve["answers"]
    assert answer["type"] == "ANSWER" and answer["document_id"] == "corpus:salaries"
    assert "equity grants" in answer["answer_text"]
    (span,) = answer["excerpt"]["highlights"]
    assert answer["excerpt"]["text"][span["begin"] : span["end"]] == answer["answer_text"]
    assert 0 < answer["confidence"] <= 1
    for other in (None, as_user("mallory", ["GROUP_executives"]), as_user("erin")):
        found = ask(api_client, question, other)
        assert all(a["document_id"] != "corpus:salaries" for a in found["answers"])
        assert "equity" not in str(found["answers"])

    vacation = ask(api_client, "How many days of paid vacation do employees accrue per year?")
    assert [a["answer_text"] for a in vacation["answers"]] == [
        "Employees accrue twenty days of paid vacation per year."
    ]
    assert ask(api_client, "What is the capital of Australia?")["answers"] == []
