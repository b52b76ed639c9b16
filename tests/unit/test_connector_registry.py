"""Connector discovery through the ``quarry.connectors`` entry points, and config validation."""

from __future__ import annotations

import pytest

from connectors.alfresco.connector import AlfrescoConnector
from connectors.base import Connector
from connectors.errors import ConnectorConfigError, ConnectorError
from connectors.filesystem import FilesystemConnector
from connectors.registry import available_types, build_connector, get_connector_class


def test_installed_connectors_are_discovered() -> None:
    assert {"alfresco", "filesystem"} <= set(available_types())
    assert get_connector_class("alfresco") is AlfrescoConnector
    assert get_connector_class("filesystem") is FilesystemConnector
    for name in ("alfresco", "filesystem"):
        assert get_connector_class(name).type_name == name


def test_unknown_type_names_the_known_ones() -> None:
    with pytest.raises(ConnectorError) as caught:
        get_connector_class("sharepoint")
    assert caught.value.code == "unknown_connector"
    assert "alfresco" in caught.value.message


def test_build_validates_and_constructs(tmp_path) -> None:
    connector = build_connector("filesystem", {"root": str(tmp_path)}, "ds1")
    assert isinstance(connector, Connector)
    assert isinstance(connector, FilesystemConnector) and connector.data_source_id == "ds1"


def test_config_errors_carry_field_paths_without_values() -> None:
    config = {
        "site_url": "ftp://alfresco",
        "site_ids": ["eng", "bad/id"],
        "secret_ref": "hunter2",
        "exclusion_patterns": ["("],
        "field_mappings": {"wiki": [{"source": "cm:author", "target": "owner", "type": "uuid"}]},
    }
    with pytest.raises(ConnectorConfigError) as caught:
        build_connector("alfresco", config, "ds1")
    error = caught.value
    assert error.code == "invalid_config"
    locs = {e["loc"] for e in error.errors}
    assert {
        "site_url",
        "site_ids",
        "secret_ref",
        "exclusion_patterns",
        "field_mappings.wiki.0.type",
    } <= locs
    assert "hunter2" not in str(error) and all("input" not in e for e in error.errors)
