"""Kendra's relevance tuning with boto3 and the AWS CLI: UpdateIndex's metadata configuration
updates, DescribeIndex's ``Relevance`` members and Query's
``DocumentRelevanceOverrideConfigurations``, against a running Quarry on real Elasticsearch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from search.runtime import Runtime
from tests.integration.test_kendra_clients import _aws
from tests.integration.test_kendra_support import client, error_code
from tests.integration.test_relevance import MATCHES, NEIGHBOUR, QUERY, SOURCE, documents

pytest_plugins = ["tests.integration.test_kendra_support"]  # the Kendra fixtures

USER = {"UserId": "erin"}


@pytest.fixture(scope="module")
def corpus(kendra_runtime: Runtime) -> None:
    stats = kendra_runtime.pipeline.write_batch(SOURCE, documents())
    assert not stats.failed
    kendra_runtime.writer.refresh()


@pytest.fixture
def index(kendra: Any, corpus: None) -> Any:
    """A fresh index per test: tuning belongs to its index, and goes with it."""
    found = kendra.create_index(Name="tuned", RoleArn="arn:aws:iam::123456789012:role/kendra")
    yield found["Id"]
    kendra.delete_index(Id=found["Id"])


def ranked(kendra: Any, index: str, **kw: Any) -> list[str]:
    response = kendra.query(IndexId=index, QueryText=QUERY, UserContext=USER, PageSize=20, **kw)
    return [i["DocumentId"] for i in response["ResultItems"] if i["Type"] == "DOCUMENT"]


def matches(order: list[str]) -> list[str]:
    return [d for d in order if d in MATCHES]


def test_update_index_tunes_the_next_query_and_describe_index_shows_it(
    kendra: Any, index: str
) -> None:
    assert matches(ranked(kendra, index))[0] != "tune:alpha"
    kendra.update_index(
        Id=index,
        DocumentMetadataConfigurationUpdates=[
            {
                "Name": "priority",
                "Type": "LONG_VALUE",
                "Relevance": {"Importance": 10, "RankOrder": "DESCENDING"},
                "Search": {"Facetable": True, "Sortable": True},
            }
        ],
    )
    assert matches(ranked(kendra, index)) == [
        "tune:alpha",
        "tune:beta",
        "tune:gamma",
        "tune:delta",
    ]
    configs = {
        c["Name"]: c for c in kendra.describe_index(Id=index)["DocumentMetadataConfigurations"]
    }
    assert configs["priority"]["Type"] == "LONG_VALUE"
    assert configs["priority"]["Relevance"] == {"Importance": 10, "RankOrder": "DESCENDING"}
    assert "Relevance" not in configs["department"]

    # A second update adds freshness and keeps the priority's tuning; the override beats both.
    kendra.update_index(
        Id=index,
        DocumentMetadataConfigurationUpdates=[
            {
                "Name": "_last_updated_at",
                "Type": "DATE_VALUE",
                "Relevance": {"Importance": 10, "Freshness": True, "Duration": "2628000s"},
            }
        ],
    )
    configs = {
        c["Name"]: c for c in kendra.describe_index(Id=index)["DocumentMetadataConfigurations"]
    }
    assert configs["_last_updated_at"]["Relevance"]["Freshness"] is True
    assert configs["priority"]["Relevance"]["Importance"] == 10
    order = ranked(
        kendra,
        index,
        DocumentRelevanceOverrideConfigurations=[
            {"Name": "priority", "Relevance": {"Importance": 10, "RankOrder": "ASCENDING"}},
            {"Name": "department", "Relevance": {"ValueImportanceMap": {"Legal": 10}}},
        ],
    )
    assert order[0] == "tune:delta"
    # Without ``Relevance`` an update clears the attribute's tuning.
    kendra.update_index(
        Id=index,
        DocumentMetadataConfigurationUpdates=[
            {"Name": "priority", "Type": "LONG_VALUE"},
            {"Name": "_last_updated_at", "Type": "DATE_VALUE"},
        ],
    )
    configs = {
        c["Name"]: c for c in kendra.describe_index(Id=index)["DocumentMetadataConfigurations"]
    }
    assert "Relevance" not in configs["priority"]


def test_tuning_belongs_to_its_index(kendra: Any, index: str) -> None:
    other = kendra.create_index(Name="untuned", RoleArn="arn:aws:iam::123456789012:role/kendra")
    try:
        before = ranked(kendra, other["Id"])
        kendra.update_index(
            Id=index,
            DocumentMetadataConfigurationUpdates=[
                {
                    "Name": "department",
                    "Type": "STRING_VALUE",
                    "Relevance": {"ValueImportanceMap": {"Finance": 10}},
                }
            ],
        )
        assert ranked(kendra, index)[0] == "tune:alpha"
        assert ranked(kendra, other["Id"]) == before
    finally:
        kendra.delete_index(Id=other["Id"])


def test_a_boosted_neighbour_stays_below_every_match(kendra: Any, index: str) -> None:
    assert NEIGHBOUR in ranked(kendra, index)
    order = ranked(
        kendra,
        index,
        DocumentRelevanceOverrideConfigurations=[
            {"Name": "department", "Relevance": {"ValueImportanceMap": {"Treasury": 10}}},
            {"Name": "_last_updated_at", "Relevance": {"Importance": 10, "Freshness": True}},
        ],
    )
    assert set(order[:4]) == MATCHES and order[4] == NEIGHBOUR


@pytest.mark.parametrize(
    ("update", "member"),
    [
        (
            {"Name": "priority", "Type": "LONG_VALUE", "Relevance": {"Importance": 11}},
            "Relevance.Importance",
        ),
        (
            {"Name": "priority", "Type": "LONG_VALUE", "Relevance": {"Freshness": True}},
            "Relevance.Freshness",
        ),
        (
            {
                "Name": "_last_updated_at",
                "Type": "DATE_VALUE",
                "Relevance": {"Freshness": True, "Duration": "1 month"},
            },
            "Relevance.Duration",
        ),
        ({"Name": "priority", "Type": "STRING_VALUE", "Relevance": {"Importance": 2}}, "Type"),
    ],
)
def test_bad_updates_are_validation_errors_naming_the_member(
    kendra_endpoint: str, index: str, update: dict[str, Any], member: str
) -> None:
    # boto3's own checks off: these are Quarry's answers.
    unchecked = client(kendra_endpoint, parameter_validation=False)
    with pytest.raises(ClientError) as exc:
        unchecked.update_index(Id=index, DocumentMetadataConfigurationUpdates=[update])
    assert error_code(exc) == "ValidationException"
    assert f"DocumentMetadataConfigurationUpdates[0].{member}" in str(exc.value)
    with pytest.raises(ClientError) as exc:
        unchecked.query(
            IndexId=index,
            QueryText=QUERY,
            DocumentRelevanceOverrideConfigurations=[
                {"Name": update["Name"], "Relevance": {"Importance": 0}}
            ],
        )
    assert error_code(exc) == "ValidationException"
    assert "DocumentRelevanceOverrideConfigurations[0].Relevance.Importance" in str(exc.value)


def test_aws_cli_update_index(kendra_endpoint: str, index: str, tmp_path: Path) -> None:
    updates = [
        {
            "Name": "department",
            "Type": "STRING_VALUE",
            "Relevance": {"ValueImportanceMap": {"Sales": 10}},
        }
    ]
    run = _aws(
        kendra_endpoint,
        tmp_path,
        "update-index",
        "--id",
        index,
        "--document-metadata-configuration-updates",
        json.dumps(updates),
    )
    assert run.returncode == 0, run.stderr
    run = _aws(kendra_endpoint, tmp_path, "describe-index", "--id", index)
    assert run.returncode == 0, run.stderr
    configs = {c["Name"]: c for c in json.loads(run.stdout)["DocumentMetadataConfigurations"]}
    assert configs["department"]["Relevance"] == {"ValueImportanceMap": {"Sales": 10}}
