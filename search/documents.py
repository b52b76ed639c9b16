"""One indexed document as stored, with its access list, for explaining an ACL decision."""

from __future__ import annotations

from typing import Any

from elasticsearch import Elasticsearch, NotFoundError

from acl import AccessControlList

SHOWN_FIELDS = ["doc_id", "title", "data_source_id", "source_uri"]
ACL_FIELDS = ["acl_allow_users", "acl_allow_groups", "acl_deny_users", "acl_deny_groups"]


def find_document(es: Elasticsearch, alias: str, doc_id: str) -> dict[str, Any] | None:
    """The document's identifying fields and ACL fields; None when it is not indexed."""
    try:
        hits = es.search(
            index=alias,
            query={"term": {"doc_id": doc_id}},
            size=1,
            source_includes=[*SHOWN_FIELDS, *ACL_FIELDS],
        ).body["hits"]["hits"]
    except NotFoundError:  # no document index yet: nothing has been indexed
        return None
    if not hits:
        return None
    source: dict[str, Any] = hits[0]["_source"]
    return source


def access_list(doc: dict[str, Any]) -> AccessControlList:
    """The ACL a document was indexed with (a single value may be stored as a bare string)."""

    def values(field: str) -> list[str]:
        raw = doc.get(field) or []
        return [raw] if isinstance(raw, str) else list(raw)

    return AccessControlList(
        allow_users=values("acl_allow_users"),
        allow_groups=values("acl_allow_groups"),
        deny_users=values("acl_deny_users"),
        deny_groups=values("acl_deny_groups"),
    )


def names_user(es: Elasticsearch, alias: str, user: str) -> bool:
    """Whether any indexed document's access list names ``user`` (either case)."""
    fields = ["acl_allow_users", "acl_deny_users"]
    query = {
        "bool": {
            "should": [{"term": {f: user}} for f in fields]
            + [{"term": {f"{f}.lower": user}} for f in fields],
            "minimum_should_match": 1,
        }
    }
    try:
        return bool(es.count(index=alias, query=query).body["count"])
    except NotFoundError:
        return False
