"""Alfresco node and comment JSON → ``Document``: fields, attributes, links and signatures.

Anything here that cannot read its input raises ``ItemError``; the crawl turns that into a
``Failure`` for the one item and carries on.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from acl import AccessControlList
from connectors.alfresco.acl import MalformedPermissions, fingerprint, to_acl
from connectors.alfresco.config import Entity, FieldMapping, FieldMappings, FieldType
from connectors.alfresco.scope import COMMENT, SHARED, Root
from connectors.models import AttributeValue, Document


class ItemError(ValueError):
    """One item cannot become a document (bad timestamp, bad mapped value, bad ACL)."""


def entry_of(item: Any) -> dict[str, Any] | None:
    """The ``entry`` of a list item or single-object answer, if it has a string ``id``."""
    entry = item.get("entry") if isinstance(item, dict) else None
    return entry if isinstance(entry, dict) and isinstance(entry.get("id"), str) else None


def parse_time(value: Any, field: str) -> datetime | None:
    """Alfresco timestamps (``...000+0000``), ISO 8601 in general, or epoch milliseconds."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ItemError(f"{field}: {value[:40]!r} is not a timestamp") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    raise ItemError(f"{field}: expected a timestamp, got {type(value).__name__}")


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


def convert(value: Any, kind: FieldType, field: str) -> AttributeValue:
    """Convert a property value to a mapping's type, or raise ``ItemError`` naming it."""
    if kind == FieldType.STRING_LIST:
        items = value if isinstance(value, list) else [value]
        if not all(_scalar(v) for v in items):
            raise ItemError(f"{field}: expected a list of values")
        return [str(v) for v in items]
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if kind == FieldType.STRING:
        if not _scalar(value):
            raise ItemError(f"{field}: expected a single value, got {type(value).__name__}")
        return str(value)
    if kind == FieldType.LONG:
        if isinstance(value, bool):
            raise ItemError(f"{field}: expected an integer, got a boolean")
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
            return int(value.strip())
        raise ItemError(f"{field}: expected an integer, got {str(value)[:40]!r}")
    return parse_time(value, field)


def mapped_attributes(
    properties: dict[str, Any], mappings: list[FieldMapping]
) -> dict[str, AttributeValue]:
    attributes: dict[str, AttributeValue] = {}
    for mapping in mappings:
        value = properties.get(mapping.source)
        if value is None:
            continue
        field = f"field mapping {mapping.source} -> {mapping.target}"
        attributes[mapping.target] = convert(value, mapping.type, field)
    return attributes


def share_uri(site_url: str, root: Root, node_id: str, name: str) -> str:
    """The Share page a user opens for the item (see ALFRESCO-NOTES, "Links")."""
    share = f"{site_url}/share/page"
    node_ref = "workspace://SpacesStore/" + quote(node_id, safe="")
    if root.site is None:
        return f"{share}/document-details?nodeRef={node_ref}"
    site = f"{share}/site/{quote(root.site, safe='')}"
    if root.category == Entity.WIKI:
        return f"{site}/wiki-page?title={quote(name, safe='')}"
    if root.category == Entity.BLOG:
        return f"{site}/blog-postview?postId={quote(name, safe='')}"
    return f"{site}/document-details?nodeRef={node_ref}"


def signature(rel: str, acl: AccessControlList | None, modified: Any) -> str:
    """What the index shows of a node changed iff its path, ACL or modification time did."""
    text = "\x00".join([rel, fingerprint(acl), str(modified)])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def node_acl(entry: dict[str, Any]) -> AccessControlList | None:
    try:
        return to_acl(entry.get("permissions"))
    except MalformedPermissions as exc:
        raise ItemError(str(exc)) from None


def _user(value: Any) -> tuple[str | None, str | None]:
    if not isinstance(value, dict):
        return None, None
    uid, name = value.get("id"), value.get("displayName")
    return (uid if isinstance(uid, str) else None, name if isinstance(name, str) else None)


def _mappings_for(root: Root, mappings: FieldMappings) -> list[FieldMapping]:
    if root.category == SHARED:
        return mappings.document_library
    return mappings.for_entity(Entity(root.category))


def folder_of(root: Root, rel: str) -> str:
    """Site, container and folders of an item (``marketing/documentLibrary/Plans/2026``)."""
    folder = rel.rsplit("/", 1)[0] if "/" in rel else rel
    return f"{root.site}/{folder}" if root.site else folder


def node_document(
    entry: dict[str, Any],
    *,
    doc_id: str,
    root: Root,
    rel: str,
    acl: AccessControlList | None,
    site_url: str,
    mappings: FieldMappings,
) -> Document:
    """The document for a content node, without its content (fetched separately)."""
    properties = entry.get("properties") or {}
    if not isinstance(properties, dict):
        raise ItemError("properties is not an object")
    name = str(entry.get("name", ""))
    title = properties.get("cm:title")
    author = properties.get("cm:author")
    created_by, created_name = _user(entry.get("createdByUser"))
    modified_by, _ = _user(entry.get("modifiedByUser"))
    raw_content = entry.get("content")
    content: dict[str, Any] = raw_content if isinstance(raw_content, dict) else {}
    attributes: dict[str, AttributeValue] = {
        "site": root.site,
        "description": properties.get("cm:description") or None,
        "author": author if isinstance(author, str) and author else None,
        "created_by": created_by,
        "modified_by": modified_by,
        "mime_type": content.get("mimeType"),
        "size": content.get("sizeInBytes"),
    }
    attributes = {k: v for k, v in attributes.items() if v is not None}
    attributes.update(mapped_attributes(properties, _mappings_for(root, mappings)))
    try:
        return Document(
            id=doc_id,
            title=title if isinstance(title, str) and title.strip() else name,
            source_uri=share_uri(site_url, root, str(entry["id"]), name),
            content_type=content.get("mimeType"),
            content_length=content.get("sizeInBytes"),
            created_at=parse_time(entry.get("createdAt"), "createdAt"),
            modified_at=parse_time(entry.get("modifiedAt"), "modifiedAt"),
            authors=[author]
            if isinstance(author, str) and author
            else [created_name or created_by or ""],
            category=root.category,
            path=rel,
            folder=folder_of(root, rel),
            attributes=attributes,
            acl=acl,
        )
    except ValueError as exc:  # pydantic: a field of the wrong shape
        raise ItemError(f"unusable node metadata: {exc.__class__.__name__}") from None


def comment_document(comment: dict[str, Any], parent: Document, doc_id: str) -> Document:
    """A comment as its own document: the commented item's ACL, path and link."""
    text = comment.get("content")
    if not isinstance(text, str):
        raise ItemError("comment has no content")
    author, author_name = _user(comment.get("createdBy"))
    title = comment.get("title")
    return Document(
        id=doc_id,
        title=title if isinstance(title, str) and title else f"Comment on {parent.title}",
        source_uri=parent.source_uri,
        text=text,
        content_type="text/html",
        created_at=parse_time(comment.get("createdAt"), "createdAt"),
        modified_at=parse_time(comment.get("modifiedAt"), "modifiedAt"),
        authors=[author_name or author or ""],
        category=COMMENT,
        path=parent.path,
        folder=parent.folder,
        attributes={
            k: v
            for k, v in {
                "parent_id": parent.id,
                "site": parent.attributes.get("site"),
                "created_by": author,
            }.items()
            if v is not None
        },
        acl=parent.acl,
    )
