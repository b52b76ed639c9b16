"""Existing Amazon Kendra clients against a running Quarry: boto3, the AWS CLI and
langchain-aws, over real HTTP with SigV4, real Elasticsearch and a real Celery worker that
syncs the Alfresco simulator's engineering site created through ``CreateDataSource``.

The oracle for "who may read what" is the simulator's own ``readable_by``; a broad query
with a large page returns every readable document of this small site.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError
from elasticsearch import Elasticsearch

from search.settings import Settings
from tests.integration.test_kendra_support import (
    SITE,
    SOURCE,
    broad,
    doc,
    error_code,
    expected,
    mint,
    query_ids,
    site_docs,
)

pytest_plugins = ["tests.integration.test_kendra_support"]  # the Kendra fixtures

USERS = ["alice", "bob", "carol", "frank", "heidi", "dave"]


def test_sync_created_through_kendra_indexes_the_site(
    kendra_synced: dict[str, Any], kendra_sim: Any, es: Elasticsearch, kendra_settings: Settings
) -> None:
    job = kendra_synced["job"]
    assert job["Status"] == "SUCCEEDED", job
    es.indices.refresh(index=kendra_settings.docs_alias)
    hits = es.search(
        index=kendra_settings.docs_alias,
        size=500,
        query={"term": {"data_source_id": SOURCE}},
        source_includes=["doc_id"],
    ).body["hits"]["hits"]
    indexed = {h["_source"]["doc_id"] for h in hits}
    assert {i.split(":", 1)[1] for i in indexed} == site_docs(kendra_sim, SITE)
    assert job["Metrics"]["DocumentsAdded"] == str(len(indexed))
    assert int(job["Metrics"]["DocumentsScanned"]) >= len(indexed)
    assert job["Metrics"]["DocumentsFailed"] == "0"
    assert job["StartTime"] <= job["EndTime"]


@pytest.mark.parametrize("user", USERS)
def test_query_returns_exactly_what_each_user_may_read(
    kendra: Any, kendra_index: str, kendra_synced: dict[str, Any], kendra_sim: Any, user: str
) -> None:
    assert query_ids(kendra, kendra_index, {"UserId": user}) == expected(kendra_sim, user)


def test_the_acls_differ_between_users_where_alfresco_says_so(
    kendra: Any, kendra_index: str, kendra_synced: dict[str, Any], kendra_sim: Any
) -> None:
    salary, security = (
        doc(kendra_sim, "engineering.salary_bands"),
        doc(kendra_sim, "engineering.security_doc"),
    )
    decision = doc(kendra_sim, "engineering.decision_record")
    alice = query_ids(kendra, kendra_index, {"UserId": "alice"})
    assert {salary, security, decision} <= alice
    assert salary not in query_ids(kendra, kendra_index, {"UserId": "bob"})  # denied by name
    assert security not in query_ids(kendra, kendra_index, {"UserId": "carol"})  # inheritance cut
    assert decision not in query_ids(kendra, kendra_index, {"UserId": "frank"})  # group denied
    assert query_ids(kendra, kendra_index) == set()  # no user context: anonymous, private site


def test_groups_in_the_user_context_are_expanded_like_a_users(
    kendra: Any, kendra_index: str, kendra_synced: dict[str, Any], kendra_sim: Any
) -> None:
    # zed is unknown to Alfresco; GROUP_backend sits inside GROUP_engineering (the site's
    # collaborators) and is the group the Security folder names.
    found = query_ids(kendra, kendra_index, {"UserId": "zed", "Groups": ["GROUP_backend"]})
    assert found == expected(kendra_sim, "bob") | {doc(kendra_sim, "engineering.salary_bands")}


def test_data_source_groups_count_only_for_their_data_source(
    kendra: Any, kendra_index: str, kendra_synced: dict[str, Any], kendra_sim: Any
) -> None:
    scoped = {
        "UserId": "zed",
        "DataSourceGroups": [{"GroupId": "GROUP_backend", "DataSourceId": SOURCE}],
    }
    assert query_ids(kendra, kendra_index, scoped) == expected(kendra_sim, "bob") | {
        doc(kendra_sim, "engineering.salary_bands")
    }
    other = {
        "UserId": "zed",
        "DataSourceGroups": [{"GroupId": "GROUP_backend", "DataSourceId": "elsewhere"}],
    }
    # The group counts only for documents of "elsewhere": SOURCE's documents stay closed.
    assert query_ids(kendra, kendra_index, other) == query_ids(
        kendra, kendra_index, {"UserId": "zed"}
    )


def test_query_result_shape(
    kendra: Any, kendra_index: str, kendra_synced: dict[str, Any], kendra_sim: Any
) -> None:
    response = kendra.query(
        IndexId=kendra_index,
        QueryText="key rotation procedure",
        PageSize=5,
        UserContext={"UserId": "alice"},
        Facets=[{"DocumentAttributeKey": "_category"}],
        RequestedDocumentAttributes=["_category", "_last_updated_at", "version"],
    )
    query_id = response["QueryId"]
    assert uuid.UUID(query_id) and response["TotalNumberOfResults"] >= 1
    documents = [i for i in response["ResultItems"] if i["Type"] == "DOCUMENT"]
    assert len(documents) == 5
    top = documents[0]
    assert top["Id"].startswith(query_id) and len(top["Id"]) <= 73
    assert "key rotation" in top["DocumentTitle"]["Text"].lower()
    excerpt = top["DocumentExcerpt"]
    marked = {
        excerpt["Text"][h["BeginOffset"] : h["EndOffset"]].lower() for h in excerpt["Highlights"]
    }
    assert marked & {"key", "rotation", "procedure"}
    assert all(h["Type"] == "STANDARD" for h in excerpt["Highlights"])
    assert top["DocumentURI"].startswith(f"{kendra_sim.base_url}/share/page/site/{SITE}/")
    assert top["ScoreAttributes"]["ScoreConfidence"] in ("VERY_HIGH", "HIGH", "MEDIUM", "LOW")
    for item in documents:
        attributes = {a["Key"]: a["Value"] for a in item["DocumentAttributes"]}
        assert set(attributes) <= {"_category", "_last_updated_at", "version"}
        assert isinstance(attributes["_last_updated_at"]["DateValue"], datetime)
        assert set(attributes["_category"]) == {"StringValue"}
    versions = [a for i in documents for a in i["DocumentAttributes"] if a["Key"] == "version"]
    assert versions and all("StringValue" in a["Value"] for a in versions)  # field mapping
    facet = response["FacetResults"][0]
    assert facet["DocumentAttributeKey"] == "_category"
    assert facet["DocumentAttributeValueType"] == "STRING_VALUE"
    counts = {
        p["DocumentAttributeValue"]["StringValue"]: p["Count"]
        for p in facet["DocumentAttributeValueCountPairs"]
    }
    assert counts and all(c > 0 for c in counts.values())


def test_a_strong_match_gets_a_suggested_answer(
    kendra: Any, kendra_index: str, kendra_synced: dict[str, Any]
) -> None:
    items = kendra.query(
        IndexId=kendra_index, QueryText="Nightingale threat model", UserContext={"UserId": "alice"}
    )["ResultItems"]
    assert items[0]["Type"] == "ANSWER", [i["ScoreAttributes"] for i in items[:3]]
    answer = items[0]["AdditionalAttributes"][0]
    assert answer["Key"] == "AnswerText" and answer["Value"]["TextWithHighlightsValue"]["Text"]
    assert items[0]["DocumentId"] == items[1]["DocumentId"] and items[1]["Type"] == "DOCUMENT"
    only_documents = kendra.query(
        IndexId=kendra_index,
        QueryText="Nightingale threat model",
        UserContext={"UserId": "alice"},
        QueryResultTypeFilter="DOCUMENT",
    )["ResultItems"]
    assert {i["Type"] for i in only_documents} == {"DOCUMENT"}


def test_attribute_filters_sorting_and_paging(
    kendra: Any, kendra_index: str, kendra_synced: dict[str, Any], kendra_sim: Any
) -> None:
    alice = {"UserId": "alice"}
    everything = kendra.query(
        IndexId=kendra_index,
        QueryText=broad(),
        PageSize=100,
        UserContext=alice,
        RequestedDocumentAttributes=["_category", "_last_updated_at"],
    )
    attrs = {
        i["DocumentId"]: {a["Key"]: a["Value"] for a in i["DocumentAttributes"]}
        for i in everything["ResultItems"]
        if i["Type"] == "DOCUMENT"
    }
    wiki = {d for d, a in attrs.items() if a["_category"]["StringValue"] == "wiki"}
    assert wiki and wiki != set(attrs)
    is_wiki = {"EqualsTo": {"Key": "_category", "Value": {"StringValue": "wiki"}}}
    assert query_ids(kendra, kendra_index, alice, AttributeFilter=is_wiki) == wiki
    assert query_ids(kendra, kendra_index, alice, AttributeFilter={"NotFilter": is_wiki}) == (
        set(attrs) - wiki
    )
    dates = sorted(a["_last_updated_at"]["DateValue"] for a in attrs.values())
    middle = dates[len(dates) // 2]
    newer = {"GreaterThan": {"Key": "_last_updated_at", "Value": {"DateValue": middle}}}
    assert query_ids(kendra, kendra_index, alice, AttributeFilter=newer) == {
        d for d, a in attrs.items() if a["_last_updated_at"]["DateValue"] > middle
    }
    both = {
        "AndAllFilters": [
            {"ContainsAny": {"Key": "_category", "Value": {"StringListValue": ["wiki", "blog"]}}},
            {"LessThanOrEquals": {"Key": "_last_updated_at", "Value": {"DateValue": middle}}},
        ]
    }
    assert query_ids(kendra, kendra_index, alice, AttributeFilter=both) == {
        d
        for d, a in attrs.items()
        if a["_category"]["StringValue"] in ("wiki", "blog")
        and a["_last_updated_at"]["DateValue"] <= middle
    }
    newest = kendra.query(
        IndexId=kendra_index,
        QueryText=broad(),
        PageSize=10,
        UserContext=alice,
        SortingConfiguration={"DocumentAttributeKey": "_last_updated_at", "SortOrder": "DESC"},
    )["ResultItems"]
    stamps = [attrs[i["DocumentId"]]["_last_updated_at"]["DateValue"] for i in newest]
    assert stamps == sorted(stamps, reverse=True)
    assert {i["ScoreAttributes"]["ScoreConfidence"] for i in newest} == {"NOT_AVAILABLE"}
    pages = [query_ids(kendra, kendra_index, alice, PageSize=7, PageNumber=n) for n in range(1, 6)]
    assert set().union(*pages) == set(attrs) and sum(map(len, pages)) == len(attrs)


def test_unsupported_members_are_ignored_with_a_warning(
    kendra: Any, kendra_index: str, kendra_synced: dict[str, Any]
) -> None:
    response = kendra.query(
        IndexId=kendra_index,
        QueryText=broad(),
        VisitorId="visitor-1",
        UserContext={"UserId": "alice"},
    )
    warnings = [w["Message"] for w in response["Warnings"]]
    assert any("VisitorId" in w for w in warnings)
    assert "VisitorId" in response["ResponseMetadata"]["HTTPHeaders"]["x-quarry-warnings"]
    assert response["ResultItems"]


def test_user_token_index_verifies_jwts_and_fails_closed(
    kendra: Any, kendra_token_index: str, kendra_synced: dict[str, Any], kendra_sim: Any
) -> None:
    for user in ("bob", "frank"):
        assert query_ids(kendra, kendra_token_index, {"Token": mint(user)}) == expected(
            kendra_sim, user
        )
    assert query_ids(kendra, kendra_token_index, {"Token": mint("zed", ["GROUP_backend"])}) == (
        expected(kendra_sim, "bob") | {doc(kendra_sim, "engineering.salary_bands")}
    )
    assert query_ids(kendra, kendra_token_index) == set()  # no token: anonymous, never everything
    for bad in (
        mint("alice", key="another-secret-of-sufficient-length-0123456789"),
        "not-a-token",
        mint("alice")[:-4] + "AAAA",
    ):
        with pytest.raises(ClientError) as exc:
            query_ids(kendra, kendra_token_index, {"Token": bad})
        assert error_code(exc) == "AccessDeniedException"
        assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(ClientError) as exc:
        query_ids(kendra, kendra_token_index, {"UserId": "alice"})
    assert error_code(exc) == "ValidationException"
