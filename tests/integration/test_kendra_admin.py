"""Kendra's index, data source and sync-job operations over real HTTP, checked against what
Quarry's own services then hold: the Kendra face must be a translation, not a second store."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError
from elasticsearch import Elasticsearch

from search.runtime import Runtime
from search.settings import Settings
from sync_engine.service import DataSourceService
from tests.integration.test_kendra_support import (
    alfresco_configuration,
    error_code,
    site_docs,
    wait_for_sync,
)
from tests.stack import wait_until

pytest_plugins = ["tests.integration.test_kendra_support"]  # the Kendra fixtures

MARKETING = "kendra-mkt"
ROLE = "arn:aws:iam::123456789012:role/kendra"


def warnings_of(response: dict[str, Any]) -> str:
    header: str = response["ResponseMetadata"]["HTTPHeaders"].get("x-quarry-warnings", "")
    return header


def test_index_lifecycle(kendra: Any, kendra_jwt_file: Any) -> None:
    token = str(uuid.uuid4())
    tokens = [
        {
            "JwtTokenTypeConfiguration": {
                "KeyLocation": "SECRET_MANAGER",
                "SecretManagerArn": f"file:{kendra_jwt_file}",
                "Issuer": "https://idp.example.com",
            }
        }
    ]
    created = kendra.create_index(
        Name="lifecycle",
        RoleArn=ROLE,
        ClientToken=token,
        Description="first",
        UserContextPolicy="USER_TOKEN",
        UserTokenConfigurations=tokens,
        Tags=[{"Key": "team", "Value": "search"}],
    )
    assert "team" in warnings_of(created)  # tags other than quarry:* are not kept
    again = kendra.create_index(Name="lifecycle", RoleArn=ROLE, ClientToken=token)
    assert again["Id"] == created["Id"]  # a retried create is the same index
    described = kendra.describe_index(Id=created["Id"])
    assert described["Name"] == "lifecycle" and described["Status"] == "ACTIVE"
    assert described["UserContextPolicy"] == "USER_TOKEN"
    assert described["UserTokenConfigurations"] == tokens
    assert described["Description"] == "first" and described["RoleArn"] == ROLE
    stats = described["IndexStatistics"]["TextDocumentStatistics"]
    assert stats["IndexedTextDocumentsCount"] >= 0
    assert {"_created_at", "_category"} <= {
        m["Name"] for m in described["DocumentMetadataConfigurations"]
    }
    other = kendra.create_index(Name="second", RoleArn=ROLE)["Id"]
    first_page = kendra.list_indices(MaxResults=1)
    second_page = kendra.list_indices(MaxResults=1, NextToken=first_page["NextToken"])
    listed = [
        i["Id"] for p in (first_page, second_page) for i in p["IndexConfigurationSummaryItems"]
    ]
    assert listed == [created["Id"], other]
    kendra.delete_index(Id=other)
    for call in (
        lambda: kendra.describe_index(Id=other),
        lambda: kendra.query(IndexId=other, QueryText="anything"),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert error_code(exc) == "ResourceNotFoundException"
        assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"UserContextPolicy": "USER_TOKEN"}, "needs UserTokenConfigurations"),
        (
            {
                "UserTokenConfigurations": [
                    {
                        "JwtTokenTypeConfiguration": {
                            "KeyLocation": "SECRET_MANAGER",
                            "SecretManagerArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:jwt",
                        }
                    }
                ]
            },
            "not an AWS ARN",
        ),
        (
            {
                "UserTokenConfigurations": [
                    {
                        "JwtTokenTypeConfiguration": {
                            "KeyLocation": "URL",
                            "URL": "https://idp.example.com/.well-known/jwks.json",
                        }
                    }
                ]
            },
            "over the network",
        ),
        (
            {
                "UserTokenConfigurations": [
                    {
                        "JsonTokenTypeConfiguration": {
                            "UserNameAttributeField": "username",
                            "GroupAttributeField": "groups",
                        }
                    }
                ]
            },
            "unsigned",
        ),
        (
            {
                "UserTokenConfigurations": [
                    {
                        "JwtTokenTypeConfiguration": {
                            "KeyLocation": "SECRET_MANAGER",
                            "SecretManagerArn": "env:QUARRY_TEST_KENDRA_NOT_SET",
                        }
                    }
                ]
            },
            "environment variable not set",
        ),
    ],
)
def test_index_token_settings_are_checked_when_the_index_is_made(
    kendra: Any, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ClientError) as exc:
        kendra.create_index(Name="broken", RoleArn=ROLE, **options)
    assert error_code(exc) == "ValidationException"
    assert message in exc.value.response["Error"]["Message"]


def test_data_source_is_translated_into_quarrys_catalogue(
    kendra: Any, kendra_index: str, kendra_sim: Any, kendra_runtime: Runtime
) -> None:
    token = str(uuid.uuid4())
    configuration = alfresco_configuration(
        kendra_sim,
        "marketing",
        CrawlComments=True,
        EntityFilter=["documentLibrary", "blog"],
        ExclusionPatterns=[r"\.png$"],
        BlogFieldMappings=[
            {
                "DataSourceFieldName": "blg_released",
                "IndexFieldName": "released",
                "DateFieldFormat": "yyyy-MM-dd'T'HH:mm:ss.SSSZ",
            }
        ],
        VpcConfiguration={"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"]},
    )
    created = kendra.create_data_source(
        Name=MARKETING,
        IndexId=kendra_index,
        Type="ALFRESCO",
        ClientToken=token,
        Configuration=configuration,
        Schedule="cron(0 8 ? * 2-6 *)",
        Description="Marketing",
    )
    assert created["Id"] == MARKETING and "VpcConfiguration" in warnings_of(created)
    retried = kendra.create_data_source(
        Name=MARKETING,
        IndexId=kendra_index,
        Type="ALFRESCO",
        ClientToken=token,
        Configuration=configuration,
    )
    assert retried["Id"] == MARKETING
    with pytest.raises(ClientError) as exc:
        kendra.create_data_source(
            Name=MARKETING, IndexId=kendra_index, Type="ALFRESCO", Configuration=configuration
        )
    assert error_code(exc) == "ConflictException"
    stored = DataSourceService(kendra_runtime).get(MARKETING)
    assert stored.type == "alfresco" and stored.schedule == "0 8 * * 1-5"
    assert stored.config["site_ids"] == ["marketing"]
    assert stored.config["secret_ref"] == configuration["AlfrescoConfiguration"]["SecretArn"]
    assert stored.config["crawl_comments"] is True
    assert stored.config["entity_filter"] == ["documentLibrary", "blog"]
    assert stored.config["field_mappings"]["blog"] == [
        {"source": "blg:released", "target": "released", "type": "date"}
    ]
    described = kendra.describe_data_source(Id=MARKETING, IndexId=kendra_index)
    assert described["Schedule"] == "cron(0 8 ? * 2-6 *)" and described["Type"] == "ALFRESCO"
    alfresco = described["Configuration"]["AlfrescoConfiguration"]
    assert alfresco["SiteId"] == "marketing" and alfresco["SiteUrl"] == kendra_sim.base_url
    assert alfresco["ExclusionPatterns"] == [r"\.png$"] and alfresco["CrawlComments"] is True
    assert alfresco["BlogFieldMappings"][0]["DataSourceFieldName"] == "blg_released"
    listed = kendra.list_data_sources(IndexId=kendra_index)["SummaryItems"]
    assert {"Id": MARKETING, "Type": "ALFRESCO", "Status": "ACTIVE"}.items() <= next(
        s for s in listed if s["Id"] == MARKETING
    ).items()


def test_update_data_source(
    kendra: Any, kendra_index: str, kendra_sim: Any, kendra_runtime: Runtime
) -> None:
    sources = DataSourceService(kendra_runtime)
    native = sources.get(MARKETING)  # a setting Kendra has no member for, made natively
    sources.update(
        MARKETING, native.model_copy(update={"config": {**native.config, "page_size": 50}})
    )
    before = sources.get(MARKETING)
    kendra.update_data_source(
        Id=MARKETING,
        IndexId=kendra_index,
        Schedule="",
        Configuration=alfresco_configuration(
            kendra_sim, "marketing", InclusionPatterns=["^documentLibrary/"]
        ),
    )
    after = DataSourceService(kendra_runtime).get(MARKETING)
    assert after.schedule is None and after.description == before.description
    assert after.config["inclusion_patterns"] == ["^documentLibrary/"]
    assert after.config["crawl_comments"] is False and "entity_filter" not in after.config
    assert after.config["page_size"] == 50  # kept: Kendra's update replaces only its own part
    assert "Schedule" not in kendra.describe_data_source(Id=MARKETING, IndexId=kendra_index)
    with pytest.raises(ClientError) as exc:
        kendra.update_data_source(Id=MARKETING, IndexId=kendra_index, Name="renamed")
    assert error_code(exc) == "ValidationException"


def test_sync_jobs_start_conflict_stop_and_history(
    kendra: Any,
    kendra_index: str,
    kendra_sim: Any,
    kendra_worker: Any,
    es: Elasticsearch,
    kendra_settings: Settings,
) -> None:
    with pytest.raises(ClientError) as exc:
        kendra.stop_data_source_sync_job(Id=MARKETING, IndexId=kendra_index)
    assert error_code(exc) == "ValidationException"  # nothing running
    kendra_sim.faults.set_latency(400)  # a slow source: the job is still running below
    try:
        slow = kendra.start_data_source_sync_job(Id=MARKETING, IndexId=kendra_index)
        with pytest.raises(ClientError) as exc:
            kendra.start_data_source_sync_job(Id=MARKETING, IndexId=kendra_index)
        assert error_code(exc) == "ResourceInUseException"
        kendra.stop_data_source_sync_job(Id=MARKETING, IndexId=kendra_index)
        stopped = wait_for_sync(kendra, kendra_index, MARKETING, slow["ExecutionId"])
        assert stopped["Status"] == "ABORTED" and "EndTime" in stopped
    finally:
        kendra_sim.faults.set_latency(0)
    run = kendra.start_data_source_sync_job(Id=MARKETING, IndexId=kendra_index)
    done = wait_for_sync(kendra, kendra_index, MARKETING, run["ExecutionId"])
    assert done["Status"] == "SUCCEEDED", done
    es.indices.refresh(index=kendra_settings.docs_alias)
    count = es.count(
        index=kendra_settings.docs_alias, query={"term": {"data_source_id": MARKETING}}
    ).body["count"]
    assert 0 < count < len(site_docs(kendra_sim, "marketing"))  # only documentLibrary/
    metrics = done["Metrics"]
    assert (
        int(metrics["DocumentsAdded"])
        + int(metrics["DocumentsModified"])
        + int(metrics["DocumentsDeleted"])
        > 0
    )
    history = kendra.list_data_source_sync_jobs(Id=MARKETING, IndexId=kendra_index)["History"]
    assert [j["ExecutionId"] for j in history] == [run["ExecutionId"], slow["ExecutionId"]]
    aborted = kendra.list_data_source_sync_jobs(
        Id=MARKETING, IndexId=kendra_index, StatusFilter="ABORTED"
    )["History"]
    assert [j["ExecutionId"] for j in aborted] == [slow["ExecutionId"]]
    page = kendra.list_data_source_sync_jobs(Id=MARKETING, IndexId=kendra_index, MaxResults=1)
    assert len(page["History"]) == 1 and page["NextToken"]


def test_delete_data_source_removes_its_documents(
    kendra: Any, kendra_index: str, es: Elasticsearch, kendra_settings: Settings
) -> None:
    kendra.delete_data_source(Id=MARKETING, IndexId=kendra_index)
    with pytest.raises(ClientError) as exc:
        kendra.describe_data_source(Id=MARKETING, IndexId=kendra_index)
    assert error_code(exc) == "ResourceNotFoundException"
    es.indices.refresh(index=kendra_settings.docs_alias)
    wait_until(
        lambda: (
            es.count(
                index=kendra_settings.docs_alias, query={"term": {"data_source_id": MARKETING}}
            ).body["count"]
            == 0
        ),
        30,
        message="the data source's documents to go",
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"Type": "S3"}, "ALFRESCO"),
        ({"Schedule": "rate(1 day)"}, "cron"),
        ({"Schedule": "cron(0 12 * * ? 2027)"}, "years"),
        ({"Schedule": "cron(0 12 * * 9 *)"}, "outside 1-7"),
        ({"AlfrescoConfiguration": {"SecretArn": "arn:aws:secretsmanager:eu:1:secret:x"}}, "ARN"),
        (
            {
                "AlfrescoConfiguration": {
                    "SslCertificateS3Path": {"Bucket": "my-bucket", "Key": "ca.pem"}
                }
            },
            "S3",
        ),
        ({"AlfrescoConfiguration": {"SiteUrl": "ftp://alfresco"}}, "SiteUrl"),
        ({"AlfrescoConfiguration": {"InclusionPatterns": ["(unclosed"]}}, "InclusionPatterns"),
        (
            {
                "AlfrescoConfiguration": {
                    "DocumentLibraryFieldMappings": [
                        {"DataSourceFieldName": "cm_title", "IndexFieldName": "_document_title"}
                    ]
                }
            },
            "reserved",
        ),
    ],
)
def test_data_source_errors_name_the_kendra_member(
    kendra: Any, kendra_index: str, kendra_sim: Any, change: dict[str, Any], message: str
) -> None:
    configuration = alfresco_configuration(kendra_sim, "marketing")
    configuration["AlfrescoConfiguration"].update(change.pop("AlfrescoConfiguration", {}))
    request = {
        "Name": "broken",
        "IndexId": kendra_index,
        "Type": "ALFRESCO",
        "Configuration": configuration,
        **change,
    }
    with pytest.raises(ClientError) as exc:
        kendra.create_data_source(**request)
    assert error_code(exc) == "ValidationException"
    assert message in exc.value.response["Error"]["Message"]
