"""``AlfrescoConfig``: Kendra-shaped fields, defaults and the mistakes it must refuse."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from connectors.alfresco.config import AlfrescoConfig, AuthMode, Entity

BASE = {
    "site_url": "https://alfresco.example.com:8443/",
    "site_ids": ["eng"],
    "secret_ref": "env:ALF",
}


def test_defaults() -> None:
    config = AlfrescoConfig.model_validate(BASE)
    assert config.site_url == "https://alfresco.example.com:8443"
    assert config.entity_filter == [Entity.DOCUMENT_LIBRARY, Entity.WIKI, Entity.BLOG]
    assert config.auth == AuthMode.BASIC
    assert (config.page_size, config.concurrency) == (100, 4)
    assert not config.crawl_comments and not config.crawl_system_folders


def test_single_site_id_is_accepted() -> None:
    single = {"site_url": "http://localhost:8080", "secret_ref": "env:ALF", "site_id": "hr"}
    assert AlfrescoConfig.model_validate(single).site_ids == ["hr"]
    with pytest.raises(ValidationError):
        AlfrescoConfig.model_validate({**single, "site_ids": ["eng"]})


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"site_url": "alfresco.example.com"}, "site_url"),
        ({"site_url": "https://host:99999"}, "site_url"),
        ({"site_ids": []}, "site_ids"),
        ({"site_ids": ["eng site"]}, "site_ids"),
        ({"secret_ref": "vault:x"}, "secret_ref"),
        ({"inclusion_patterns": ["[a-"]}, "inclusion_patterns"),
        ({"entity_filter": ["calendar"]}, "entity_filter"),
        ({"auth": "oauth"}, "auth"),
        ({"page_size": 0}, "page_size"),
        ({"field_mappings": {"blog": [{"source": "title", "target": "t"}]}}, "field_mappings"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_invalid_values_name_their_field(override: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        AlfrescoConfig.model_validate({**BASE, **override})
    assert any(str(e["loc"][0]) == field for e in caught.value.errors())


def test_secret_in_the_wrong_field_is_not_echoed() -> None:
    with pytest.raises(ValidationError) as caught:
        AlfrescoConfig.model_validate({**BASE, "secret_ref": "s3cr3t-password"})
    assert "s3cr3t-password" not in str(caught.value)
