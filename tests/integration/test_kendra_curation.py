"""Kendra's FAQ and featured results operations with boto3, and Query's QUESTION_ANSWER items
and FeaturedResultsItems, against a running Quarry on real Elasticsearch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from search.runtime import Runtime
from tests.corpus import SOURCE, documents
from tests.integration.test_kendra_clients import _aws
from tests.integration.test_kendra_support import error_code

pytest_plugins = ["tests.integration.test_kendra_support"]  # the Kendra fixtures

MISSING = "00000000-0000-4000-8000-000000000000"
EXECUTIVE = {"UserId": "eve", "Groups": ["GROUP_executives"]}


@pytest.fixture(scope="module")
def corpus(kendra_runtime: Runtime) -> None:
    kendra_runtime.pipeline.write_batch(SOURCE, documents())
    kendra_runtime.writer.refresh()


def items(kendra: Any, index: str, text: str, user: dict[str, Any] | None = None, **kw: Any) -> Any:
    args: dict[str, Any] = {"IndexId": index, "QueryText": text, **kw}
    if user is not None:
        args["UserContext"] = user
    return kendra.query(**args)


def test_faqs_are_created_from_a_file_path_and_answer_queries_of_their_index(
    kendra: Any, kendra_index: str, corpus: None, tmp_path: Path
) -> None:
    path = tmp_path / "faq.json"
    path.write_text(
        json.dumps(
            {
                "SchemaVersion": 1,
                "FaqDocuments": [
                    {
                        "Question": "How many vacation days do I get per year?",
                        "Answer": "Twenty days a year.",
                        "Attributes": {"_source_uri": "https://intranet.example/hr"},
                    },
                    {
                        "Question": "When are executive bonuses paid?",
                        "Answer": "In March.",
                        "AccessControlList": [
                            {"Name": "GROUP_executives", "Type": "GROUP", "Access": "ALLOW"}
                        ],
                    },
                ],
            }
        )
    )
    faq_id = kendra.create_faq(
        IndexId=kendra_index,
        Name="hr",
        S3Path={"Bucket": "file", "Key": str(path)},
        RoleArn="arn:aws:iam::123456789012:role/kendra",
        FileFormat="JSON",
    )["Id"]
    described = kendra.describe_faq(IndexId=kendra_index, Id=faq_id)
    assert described["Name"] == "hr" and described["FileFormat"] == "JSON"
    assert described["Status"] == "ACTIVE"
    listed = kendra.list_faqs(IndexId=kendra_index)["FaqSummaryItems"]
    assert faq_id in {f["Id"] for f in listed}

    found = items(kendra, kendra_index, "how many vacation days do I get per year")
    qa = [i for i in found["ResultItems"] if i["Type"] == "QUESTION_ANSWER"]
    assert len(qa) == 1 and found["ResultItems"][0]["Type"] == "QUESTION_ANSWER"
    attrs = {
        a["Key"]: a["Value"]["TextWithHighlightsValue"]["Text"]
        for a in qa[0]["AdditionalAttributes"]
    }
    assert attrs == {
        "QuestionText": "How many vacation days do I get per year?",
        "AnswerText": "Twenty days a year.",
    }
    assert qa[0]["DocumentURI"] == "https://intranet.example/hr"
    only = items(
        kendra,
        kendra_index,
        "how many vacation days do I get per year",
        QueryResultTypeFilter="QUESTION_ANSWER",
    )
    assert [i["Type"] for i in only["ResultItems"]] == ["QUESTION_ANSWER"]

    def bonus(user: dict[str, Any] | None) -> list[str]:
        found = items(kendra, kendra_index, "when are executive bonuses paid", user)
        return [
            i["DocumentExcerpt"]["Text"]
            for i in found["ResultItems"]
            if i["Type"] == "QUESTION_ANSWER"
        ]

    assert bonus(EXECUTIVE) == ["In March."]
    assert bonus(None) == [] and bonus({"UserId": "bob"}) == []

    other = kendra.create_index(Name="other", RoleArn="arn:aws:iam::123456789012:role/kendra")["Id"]
    found = items(kendra, other, "how many vacation days do I get per year")
    assert not [i for i in found["ResultItems"] if i["Type"] == "QUESTION_ANSWER"]
    with pytest.raises(ClientError) as exc:
        kendra.describe_faq(IndexId=other, Id=faq_id)
    assert error_code(exc) == "ResourceNotFoundException"

    with pytest.raises(ClientError) as exc:
        kendra.create_faq(
            IndexId=kendra_index,
            Name="s3",
            S3Path={"Bucket": "my-bucket", "Key": "faq.csv"},
            RoleArn="arn:aws:iam::123456789012:role/kendra",
        )
    assert error_code(exc) == "ValidationException"

    kendra.delete_faq(IndexId=kendra_index, Id=faq_id)
    found = items(kendra, kendra_index, "how many vacation days do I get per year")
    assert not [i for i in found["ResultItems"] if i["Type"] == "QUESTION_ANSWER"]


def test_featured_results_sets_pin_readable_documents_once(
    kendra: Any, kendra_index: str, corpus: None
) -> None:
    created = kendra.create_featured_results_set(
        IndexId=kendra_index,
        FeaturedResultsSetName="pay",
        QueryTexts=["compensation policy"],
        FeaturedDocuments=[{"Id": "corpus:salaries"}, {"Id": "corpus:vacation"}],
    )["FeaturedResultsSet"]
    set_id = created["FeaturedResultsSetId"]
    assert created["Status"] == "ACTIVE"

    eve = items(kendra, kendra_index, "Compensation policy", EXECUTIVE, PageSize=50)
    assert [i["DocumentId"] for i in eve["FeaturedResultsItems"]] == [
        "corpus:salaries",
        "corpus:vacation",
    ]
    ranked = {i["DocumentId"] for i in eve["ResultItems"] if i["Type"] == "DOCUMENT"}
    assert not ranked & {"corpus:salaries", "corpus:vacation"}
    anonymous = items(kendra, kendra_index, "compensation policy")
    assert [i["DocumentId"] for i in anonymous["FeaturedResultsItems"]] == ["corpus:vacation"]

    with pytest.raises(ClientError) as exc:
        kendra.create_featured_results_set(
            IndexId=kendra_index,
            FeaturedResultsSetName="clash",
            QueryTexts=["compensation policy"],
            FeaturedDocuments=[{"Id": "corpus:onboarding"}],
        )
    assert error_code(exc) == "ConflictException"

    described = kendra.describe_featured_results_set(
        IndexId=kendra_index, FeaturedResultsSetId=set_id
    )
    assert [d["Id"] for d in described["FeaturedDocumentsWithMetadata"]] == [
        "corpus:salaries",
        "corpus:vacation",
    ]
    summaries = kendra.list_featured_results_sets(IndexId=kendra_index)[
        "FeaturedResultsSetSummaryItems"
    ]
    assert set_id in {s["FeaturedResultsSetId"] for s in summaries}

    kendra.update_featured_results_set(
        IndexId=kendra_index, FeaturedResultsSetId=set_id, Status="INACTIVE"
    )
    assert (
        items(kendra, kendra_index, "compensation policy", EXECUTIVE)["FeaturedResultsItems"] == []
    )
    errors = kendra.batch_delete_featured_results_set(
        IndexId=kendra_index, FeaturedResultsSetIds=[set_id, MISSING]
    )["Errors"]
    assert [e["Id"] for e in errors] == [MISSING]
    with pytest.raises(ClientError) as exc:
        kendra.describe_featured_results_set(IndexId=kendra_index, FeaturedResultsSetId=set_id)
    assert error_code(exc) == "ResourceNotFoundException"


def test_aws_cli_creates_a_csv_faq_that_answers(
    kendra_endpoint: str, kendra_index: str, corpus: None, tmp_path: Path
) -> None:
    path = tmp_path / "faq.csv"
    path.write_text(
        "_question,_answer,team\nWhere do I submit travel expenses?,In the portal.,finance\n"
    )
    run = _aws(
        kendra_endpoint,
        tmp_path,
        "create-faq",
        "--index-id",
        kendra_index,
        "--name",
        "travel",
        "--file-format",
        "CSV_WITH_HEADER",
        "--role-arn",
        "arn:aws:iam::123456789012:role/kendra",
        "--s3-path",
        json.dumps({"Bucket": "file", "Key": str(path)}),
    )
    assert run.returncode == 0, run.stderr
    faq_id = json.loads(run.stdout)["Id"]
    listed = _aws(kendra_endpoint, tmp_path, "list-faqs", "--index-id", kendra_index)
    assert listed.returncode == 0, listed.stderr
    assert faq_id in {f["Id"] for f in json.loads(listed.stdout)["FaqSummaryItems"]}
    run = _aws(
        kendra_endpoint,
        tmp_path,
        "query",
        "--index-id",
        kendra_index,
        "--query-text",
        "where should I submit my travel expenses",
    )
    assert run.returncode == 0, run.stderr
    first = json.loads(run.stdout)["ResultItems"][0]
    assert first["Type"] == "QUESTION_ANSWER"
    assert first["DocumentExcerpt"]["Text"] == "In the portal."
    deleted = _aws(
        kendra_endpoint, tmp_path, "delete-faq", "--index-id", kendra_index, "--id", faq_id
    )
    assert deleted.returncode == 0, deleted.stderr


def test_query_puts_the_suggested_answer_sentence_first(
    kendra: Any, kendra_index: str, corpus: None
) -> None:
    found = items(kendra, kendra_index, "How many days of paid vacation do employees accrue?")
    first = found["ResultItems"][0]
    assert first["Type"] == "ANSWER" and first["DocumentId"] == "corpus:vacation"
    text = first["AdditionalAttributes"][0]["Value"]["TextWithHighlightsValue"]
    (top,) = [h for h in text["Highlights"] if h["TopAnswer"]]
    assert text["Text"][top["BeginOffset"] : top["EndOffset"]] == (
        "Employees accrue twenty days of paid vacation per year."
    )
    hidden = items(kendra, kendra_index, "What do executive compensation bands include?")
    assert all(i["DocumentId"] != "corpus:salaries" for i in hidden["ResultItems"])
