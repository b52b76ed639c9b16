"""Kendra's AlfrescoConfiguration members come from the connector's config model, not a copy."""

from __future__ import annotations

from api.kendra import alfresco
from connectors.alfresco.config import AlfrescoConfig, Part, fields_of
from connectors.alfresco.state import config_fingerprint

KENDRA_FORM = {
    "SiteUrl": "https://alfresco.example.com",
    "SiteId": "marketing",
    "SecretArn": "env:ALFRESCO_SECRET",
    "SslCertificateS3Path": {"Bucket": "file", "Key": "/etc/ssl/ca.pem"},
    "CrawlSystemFolders": True,
    "CrawlComments": True,
    "EntityFilter": ["documentLibrary", "wiki"],
    "DocumentLibraryFieldMappings": [
        {"DataSourceFieldName": "cm_title", "IndexFieldName": "doc_title"}
    ],
    "BlogFieldMappings": [],
    "WikiFieldMappings": [],
    "InclusionPatterns": [r".*\.pdf$"],
    "ExclusionPatterns": [r".*\.tmp$"],
}


def test_every_member_of_the_form_sets_a_controlled_field_and_validates() -> None:
    warnings: list[str] = []
    config = alfresco.to_config(KENDRA_FORM, warnings)
    assert warnings == []
    assert set(config) == set(alfresco.CONTROLLED)
    AlfrescoConfig.model_validate(config)
    described = alfresco.from_config(config)
    assert set(described) == set(KENDRA_FORM)


def test_a_field_the_model_gains_in_scope_is_controlled_by_kendra_and_changes_the_fingerprint() -> (
    None
):
    assert set(fields_of(Part.SCOPE)) <= set(alfresco.CONTROLLED)
    for name in alfresco.CONTROLLED:
        assert name == "field_mappings" or name in alfresco.KENDRA_NAMES
    base = AlfrescoConfig.model_validate(alfresco.to_config(KENDRA_FORM, []))
    tuned = base.model_copy(update={"page_size": 7})
    rescoped = base.model_copy(update={"crawl_comments": False})
    assert config_fingerprint(tuned) == config_fingerprint(base)
    assert config_fingerprint(rescoped) != config_fingerprint(base)


def test_error_locations_use_kendra_names() -> None:
    assert alfresco.kendra_path("site_ids.0") == "Configuration.AlfrescoConfiguration.SiteId.0"
    assert (
        alfresco.kendra_path(("field_mappings", "blog", 0, "target"))
        == "Configuration.AlfrescoConfiguration.BlogFieldMappings.0.target"
    )
