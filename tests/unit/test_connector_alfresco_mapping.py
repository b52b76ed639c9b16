"""Node JSON → Document: fields, typed field mappings, Share links, signatures."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.alfresco.config import FieldMapping, FieldMappings, FieldType
from connectors.alfresco.mapping import (
    ItemError,
    comment_document,
    convert,
    folder_of,
    node_document,
    parse_time,
    share_uri,
    signature,
)
from connectors.alfresco.scope import Root, is_document, is_walkable_folder

SITE = "https://alf.example.com"
LIB = Root(folder_id="f1", rel="documentLibrary", category="documentLibrary", site="eng")
WIKI = Root(folder_id="f2", rel="wiki", category="wiki", site="eng")
BLOG = Root(folder_id="f3", rel="blog", category="blog", site="eng")
SHARED = Root(folder_id="f4", rel="Shared", category="shared")

NODE = {
    "id": "1111-2222",
    "name": "api v2.pdf",
    "nodeType": "cm:content",
    "isFile": True,
    "isFolder": False,
    "createdAt": "2026-03-01T10:15:30.000+0000",
    "modifiedAt": "2026-03-02T08:00:00.000+0000",
    "createdByUser": {"id": "alice", "displayName": "Alice Smith"},
    "modifiedByUser": {"id": "bob", "displayName": "Bob Jones"},
    "content": {"mimeType": "application/pdf", "sizeInBytes": 1234},
    "properties": {
        "cm:title": "API v2",
        "cm:description": "The API",
        "cm:author": "Alice S.",
        "acme:pages": "12",
        "acme:tags": ["a", "b"],
        "acme:due": "2026-04-01",
    },
}


def test_parse_time_is_lenient() -> None:
    assert parse_time("2026-03-01T10:15:30.000+0000", "t") == datetime(
        2026, 3, 1, 10, 15, 30, tzinfo=UTC
    )
    assert parse_time("2026-03-01T10:15:30", "t") == datetime(2026, 3, 1, 10, 15, 30, tzinfo=UTC)
    assert parse_time(0, "t") == datetime(1970, 1, 1, tzinfo=UTC)
    assert parse_time(None, "t") is None
    with pytest.raises(ItemError):
        parse_time("yesterday", "t")


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        ("x", FieldType.STRING, "x"),
        (5, FieldType.STRING, "5"),
        (["only"], FieldType.STRING, "only"),
        ("a", FieldType.STRING_LIST, ["a"]),
        ([1, "b"], FieldType.STRING_LIST, ["1", "b"]),
        ("42", FieldType.LONG, 42),
        (7.0, FieldType.LONG, 7),
        ("2026-04-01", FieldType.DATE, datetime(2026, 4, 1, tzinfo=UTC)),
    ],
)
def test_convert(value: object, kind: FieldType, expected: object) -> None:
    assert convert(value, kind, "f") == expected


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("many", FieldType.LONG),
        (True, FieldType.LONG),
        ({"a": 1}, FieldType.STRING),
        ("soon", FieldType.DATE),
    ],
)
def test_bad_values_are_item_errors(value: object, kind: FieldType) -> None:
    with pytest.raises(ItemError):
        convert(value, kind, "f")


def test_node_document_fields_and_mappings() -> None:
    mappings = FieldMappings(
        document_library=[
            FieldMapping(source="acme:pages", target="pages", type=FieldType.LONG),
            FieldMapping(source="acme:tags", target="tags", type=FieldType.STRING_LIST),
            FieldMapping(source="acme:due", target="due", type=FieldType.DATE),
            FieldMapping(source="acme:absent", target="absent"),
        ]
    )
    doc = node_document(
        NODE,
        doc_id="ds:1111-2222",
        root=LIB,
        rel="documentLibrary/Specs/api v2.pdf",
        acl=None,
        site_url=SITE,
        mappings=mappings,
    )
    assert doc.title == "API v2" and doc.authors == ["Alice S."]
    assert doc.category == "documentLibrary" and doc.path == "documentLibrary/Specs/api v2.pdf"
    assert doc.folder == "eng/documentLibrary/Specs"  # site, container, folders
    assert doc.source_uri == (
        f"{SITE}/share/page/site/eng/document-details?nodeRef=workspace://SpacesStore/1111-2222"
    )
    assert doc.modified_at == datetime(2026, 3, 2, 8, tzinfo=UTC)
    assert doc.content_length == 1234 and doc.content_type == "application/pdf"
    assert doc.attributes["description"] == "The API"
    assert doc.attributes["created_by"] == "alice" and doc.attributes["modified_by"] == "bob"
    assert doc.attributes["pages"] == 12 and doc.attributes["tags"] == ["a", "b"]
    assert doc.attributes["due"] == datetime(2026, 4, 1, tzinfo=UTC)
    assert "absent" not in doc.attributes
    assert doc.acl is None


def test_bad_mapped_value_is_an_item_error() -> None:
    mappings = FieldMappings(
        document_library=[FieldMapping(source="cm:title", target="n", type=FieldType.LONG)]
    )
    with pytest.raises(ItemError, match="cm:title"):
        node_document(
            NODE, doc_id="d", root=LIB, rel="r", acl=None, site_url=SITE, mappings=mappings
        )


def test_share_links() -> None:
    assert (
        share_uri(SITE, WIKI, "id", "Main Page")
        == f"{SITE}/share/page/site/eng/wiki-page?title=Main%20Page"
    )
    assert (
        share_uri(SITE, BLOG, "id", "post-1")
        == f"{SITE}/share/page/site/eng/blog-postview?postId=post-1"
    )
    assert share_uri(SITE, SHARED, "id", "x") == (
        f"{SITE}/share/page/document-details?nodeRef=workspace://SpacesStore/id"
    )


def test_comment_inherits_parent_acl_and_link() -> None:
    parent = node_document(
        NODE,
        doc_id="ds:p",
        root=LIB,
        rel="documentLibrary/x",
        acl=None,
        site_url=SITE,
        mappings=FieldMappings(),
    )
    comment = comment_document(
        {
            "id": "c1",
            "content": "<p>nice</p>",
            "createdBy": {"id": "bob"},
            "createdAt": NODE["createdAt"],
        },
        parent,
        "ds:c1",
    )
    assert comment.category == "comment" and comment.source_uri == parent.source_uri
    assert comment.acl == parent.acl and comment.attributes["parent_id"] == "ds:p"
    assert comment.text == "<p>nice</p>" and comment.authors == ["bob"]
    assert comment.folder == parent.folder == "eng/documentLibrary"


def test_folder_of_an_item_at_a_root_and_in_the_shared_folder() -> None:
    assert folder_of(LIB, "documentLibrary/Plans/2026/plan.txt") == "eng/documentLibrary/Plans/2026"
    assert folder_of(WIKI, "wiki/Main Page") == "eng/wiki"
    assert folder_of(SHARED, "Shared/Templates/letter.docx") == "Shared/Templates"


def test_signature_changes_with_path_acl_and_time() -> None:
    base = signature("a/b", None, "t1")
    assert base == signature("a/b", None, "t1")
    assert len({base, signature("a/c", None, "t1"), signature("a/b", None, "t2")}) == 3


def test_system_nodes_are_neither_documents_nor_walked() -> None:
    assert is_document(NODE)
    assert not is_document({**NODE, "nodeType": "fm:post"})
    assert not is_document({**NODE, "nodeType": "dl:task"})
    assert not is_document({**NODE, "aspectNames": ["sys:hidden"]})
    folder = {"isFolder": True, "nodeType": "cm:folder"}
    assert is_walkable_folder(folder)
    assert not is_walkable_folder({**folder, "nodeType": "fm:forum"})
    assert not is_walkable_folder({**folder, "nodeType": "cm:systemfolder"})
