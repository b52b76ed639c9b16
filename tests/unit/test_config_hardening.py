"""Data source configuration a careless or hostile admin may write: refused with a clear reason.

Issue 14, items 5 (credentials in ``site_url``), 6 (catastrophic regular expressions) and 11
(a relative filesystem root, a field mapping onto a reserved ``_`` name).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from connectors.alfresco.config import AlfrescoConfig, FieldMapping
from connectors.filesystem import FilesystemConfig
from connectors.pathfilter import PathFilter, validate_patterns

BASE = {"site_url": "https://alfresco.example.com", "site_ids": ["eng"], "secret_ref": "env:ALF"}


@pytest.mark.parametrize(
    "url",
    [
        "http://admin:hunter2@127.0.0.1:8199",
        "http://admin@127.0.0.1:8199",
        "https://:pw@alfresco.example.com",
        "https://alfresco.example.com/a b",
        "https://alfresco.example.com/\x00",
        "https://alfresco.example.com/\x7f",
        "https://alfresco.\nexample.com",
    ],
)
def test_site_url_with_credentials_whitespace_or_control_characters_is_refused(url: str) -> None:
    with pytest.raises(ValidationError) as info:
        AlfrescoConfig.model_validate({**BASE, "site_url": url})
    errors = info.value.errors()
    assert [e["loc"] for e in errors] == [("site_url",)]
    assert "hunter2" not in str(info.value)
    if "@" in url:
        assert "secret_ref" in errors[0]["msg"]


def test_a_plain_site_url_is_still_accepted() -> None:
    config = AlfrescoConfig.model_validate({**BASE, "site_url": "http://127.0.0.1:8199/alf/"})
    assert config.site_url == "http://127.0.0.1:8199/alf"


_PROBE = """
import sys
from connectors.pathfilter import PathFilter
f = PathFilter.from_patterns([], ["(a+)+$", "(x|x)*y", "(.*a){12}"])
print(f.allows("a" * 64 + "!"), f.allows("x" * 64), f.allows("a" * 100))
"""


def test_matching_is_linear_so_a_nested_quantifier_cannot_hang_the_worker() -> None:
    # A backtracking engine needs centuries for these inputs; a linear one, microseconds.
    # The timeout only keeps a regression from hanging the suite.
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.split() == ["False", "True", "False"]


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        (r"(a)\1", "backreference"),
        (r"foo(?=bar)", "lookaround"),
        (r"(?<!x)y", "lookaround"),
        ("(", "missing"),
    ],
)
def test_patterns_outside_the_supported_syntax_are_refused_when_configured(
    pattern: str, reason: str
) -> None:
    with pytest.raises(ValueError, match="RE2") as info:
        validate_patterns([pattern])
    assert repr(pattern) in str(info.value)
    with pytest.raises(ValidationError):
        FilesystemConfig.model_validate({"root": "/srv/docs", "exclusion_patterns": [pattern]})
    with pytest.raises(ValidationError):
        AlfrescoConfig.model_validate({**BASE, "inclusion_patterns": [pattern]})


def test_supported_patterns_keep_search_semantics() -> None:
    f = PathFilter.from_patterns([r"^documentLibrary/", r"(?i)\.pdf$"], [r"\.tmp$", "/Drafts/"])
    assert f.allows("documentLibrary/Specs/api v2.pdf")
    assert not f.allows("documentLibrary/Drafts/x.pdf")
    assert not f.allows("documentLibrary/x.tmp")
    assert not f.allows("wiki/page")
    assert f.allows("x/report.PDF")


def test_a_relative_filesystem_root_is_refused() -> None:
    with pytest.raises(ValidationError) as info:
        FilesystemConfig.model_validate({"root": "docs/shared"})
    assert info.value.errors()[0]["loc"] == ("root",)
    assert "absolute" in info.value.errors()[0]["msg"]
    assert FilesystemConfig.model_validate({"root": "/srv/docs"}).root == Path("/srv/docs")


@pytest.mark.parametrize("target", ["_created_at", "_secret", "_"])
def test_a_field_mapping_target_may_not_be_a_reserved_name(target: str) -> None:
    with pytest.raises(ValidationError) as info:
        FieldMapping.model_validate({"source": "cm:author", "target": target})
    assert "reserved" in str(info.value)
    assert (
        FieldMapping.model_validate({"source": "cm:author", "target": "author"}).target == "author"
    )
