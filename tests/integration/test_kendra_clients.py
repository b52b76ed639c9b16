"""Retrieve, langchain-aws, the AWS CLI, SubmitFeedback and principal mappings against a
running Quarry whose engineering site was created and synced through the Kendra API."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from elasticsearch import Elasticsearch
from langchain_aws.retrievers import AmazonKendraRetriever

from search.settings import Settings
from tests.integration.test_kendra_support import (
    KEY_ID,
    REGION,
    SECRET,
    SOURCE,
    broad,
    doc,
    error_code,
    expected,
    query_ids,
)

pytest_plugins = ["tests.integration.test_kendra_support"]  # the Kendra fixtures


def test_retrieve_returns_readable_passages_only(
    kendra: Any, kendra_index: str, kendra_synced: dict[str, Any], kendra_sim: Any
) -> None:
    text = "Vacuum settings were tuned after autovacuum fell behind"
    decision = doc(kendra_sim, "engineering.decision_record")
    for user in ("alice", "frank"):
        response = kendra.retrieve(
            IndexId=kendra_index, QueryText=text, PageSize=20, UserContext={"UserId": user}
        )
        items = response["ResultItems"]
        assert items and uuid.UUID(response["QueryId"])
        assert {i["DocumentId"] for i in items} <= expected(kendra_sim, user)
        for item in items:
            assert item["Content"] and len(item["Content"].split()) <= 200
            assert item["DocumentTitle"] and item["DocumentURI"].startswith(kendra_sim.base_url)
            assert item["ScoreAttributes"]["ScoreConfidence"] in (
                "VERY_HIGH",
                "HIGH",
                "MEDIUM",
                "LOW",
            )
        found = {i["DocumentId"] for i in items}
        assert (decision in found) == (user == "alice")


def test_langchain_retriever_with_a_boto3_client(
    kendra: Any, kendra_index: str, kendra_synced: dict[str, Any], kendra_sim: Any
) -> None:
    decision = doc(kendra_sim, "engineering.decision_record")
    text = "Vacuum settings were tuned after autovacuum fell behind"
    for user in ("alice", "frank"):
        retriever = AmazonKendraRetriever(  # type: ignore[call-arg]
            index_id=kendra_index,
            client=kendra,
            top_k=5,
            user_context={"UserId": user},
            min_score_confidence=None,
        )
        documents = retriever.invoke(text)
        assert documents and len(documents) <= 5
        ids = {d.metadata["document_id"] for d in documents}
        assert ids <= expected(kendra_sim, user)
        assert (decision in ids) == (user == "alice")
        assert all(
            d.page_content and d.metadata["source"].startswith(kendra_sim.base_url)
            for d in documents
        )


def _aws(
    kendra_endpoint: str, tmp_path: Path, *args: str, secret: str = SECRET
) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "AWS_ACCESS_KEY_ID": KEY_ID,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_PAGER": "",
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_MAX_ATTEMPTS": "1",
    }
    command = [
        sys.executable,
        "-m",
        "awscli",
        "kendra",
        *args,
        "--endpoint-url",
        kendra_endpoint,
        "--output",
        "json",
    ]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def test_aws_cli_queries_as_a_user(
    kendra_endpoint: str,
    kendra_index: str,
    kendra_synced: dict[str, Any],
    kendra_sim: Any,
    tmp_path: Path,
) -> None:
    run = _aws(
        kendra_endpoint,
        tmp_path,
        "query",
        "--index-id",
        kendra_index,
        "--query-text",
        broad(),
        "--page-size",
        "100",
        "--user-context",
        json.dumps({"UserId": "carol"}),
    )
    assert run.returncode == 0, run.stderr
    items = json.loads(run.stdout)["ResultItems"]
    assert {i["DocumentId"] for i in items} == expected(kendra_sim, "carol")
    denied = _aws(
        kendra_endpoint,
        tmp_path,
        "query",
        "--index-id",
        kendra_index,
        "--query-text",
        broad(),
        secret="wrong-secret",
    )
    assert denied.returncode != 0 and "InvalidSignatureException" in denied.stderr


def test_submit_feedback_lands_in_the_feedback_store(
    kendra: Any,
    kendra_index: str,
    kendra_token_index: str,
    kendra_synced: dict[str, Any],
    es: Elasticsearch,
    kendra_settings: Settings,
) -> None:
    response = kendra.query(
        IndexId=kendra_index,
        QueryText="cluster upgrade checklist",
        UserContext={"UserId": "alice"},
        QueryResultTypeFilter="DOCUMENT",
    )
    first, second = response["ResultItems"][:2]
    kendra.submit_feedback(
        IndexId=kendra_index,
        QueryId=response["QueryId"],
        ClickFeedbackItems=[{"ResultId": first["Id"], "ClickTime": datetime.now(UTC)}],
        RelevanceFeedbackItems=[{"ResultId": second["Id"], "RelevanceValue": "NOT_RELEVANT"}],
    )
    index = kendra_settings.system_index("feedback")
    es.indices.refresh(index=index)
    stored = [
        h["_source"]
        for h in es.search(
            index=index, query={"term": {"query_id": uuid.UUID(response["QueryId"]).hex}}
        ).body["hits"]["hits"]
    ]
    by_kind = {s["kind"]: s for s in stored}
    assert by_kind["click"]["result_id"] == first["DocumentId"]
    assert by_kind["relevance"]["result_id"] == second["DocumentId"]
    assert by_kind["relevance"]["relevant"] is False
    assert by_kind["click"]["user"] == "alice"
    assert by_kind["click"]["query_text"] == "cluster upgrade checklist"
    for bad, code in (
        (
            {"QueryId": response["QueryId"], "IndexId": kendra_token_index},
            "ResourceNotFoundException",
        ),
        ({"QueryId": str(uuid.uuid4()), "IndexId": kendra_index}, "ResourceNotFoundException"),
        (
            {
                "QueryId": response["QueryId"],
                "IndexId": kendra_index,
                "RelevanceFeedbackItems": [{"ResultId": "nope", "RelevanceValue": "RELEVANT"}],
            },
            "ValidationException",
        ),
    ):
        with pytest.raises(ClientError) as exc:
            kendra.submit_feedback(**bad)
        assert error_code(exc) == code


def test_principal_mappings_feed_the_identity_store(
    kendra: Any, kendra_index: str, kendra_synced: dict[str, Any], kendra_sim: Any
) -> None:
    security = doc(kendra_sim, "engineering.security_doc")
    assert query_ids(kendra, kendra_index, {"UserId": "yuri"}) == set()
    kendra.put_principal_mapping(
        IndexId=kendra_index,
        GroupId="GROUP_kendra_ops",
        OrderingId=10,
        GroupMembers={"MemberUsers": [{"UserId": "yuri"}]},
    )
    kendra.put_principal_mapping(
        IndexId=kendra_index,
        GroupId="GROUP_backend",
        OrderingId=10,
        GroupMembers={"MemberGroups": [{"GroupId": "GROUP_kendra_ops"}]},
    )  # a second, global record for the group: the connector's own record stays as it is
    yuri = query_ids(kendra, kendra_index, {"UserId": "yuri"})
    assert security in yuri and yuri == query_ids(kendra, kendra_index, {"UserId": "bob"}) | {
        doc(kendra_sim, "engineering.salary_bands")
    }
    described = kendra.describe_principal_mapping(IndexId=kendra_index, GroupId="GROUP_kendra_ops")
    summary = described["GroupOrderingIdSummaries"][0]
    assert summary["Status"] == "SUCCEEDED" and summary["OrderingId"] == 10
    crawled = kendra.describe_principal_mapping(
        IndexId=kendra_index, GroupId="GROUP_engineering", DataSourceId=SOURCE
    )  # written by the sync
    assert crawled["GroupOrderingIdSummaries"][0]["Status"] == "SUCCEEDED"
    with pytest.raises(ClientError) as exc:
        kendra.describe_principal_mapping(IndexId=kendra_index, GroupId="x", DataSourceId="nope")
    assert error_code(exc) == "ResourceNotFoundException"
    stale = kendra.delete_principal_mapping(
        IndexId=kendra_index, GroupId="GROUP_kendra_ops", OrderingId=5
    )
    assert "OrderingId" in stale["ResponseMetadata"]["HTTPHeaders"]["x-quarry-warnings"]
    assert security in query_ids(kendra, kendra_index, {"UserId": "yuri"})  # the stale delete lost
    kendra.delete_principal_mapping(IndexId=kendra_index, GroupId="GROUP_kendra_ops", OrderingId=11)
    assert query_ids(kendra, kendra_index, {"UserId": "yuri"}) == set()
    with pytest.raises(ClientError) as exc:
        kendra.describe_principal_mapping(IndexId=kendra_index, GroupId="GROUP_kendra_ops")
    assert error_code(exc) == "ResourceNotFoundException"
