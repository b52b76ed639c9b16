"""Handlers for nodes, their children, content and comments, and the trashcan.

Reads follow the real server: a node the caller may not read answers 403, unreadable
children are silently left out of listings, ``/children`` of a file is a 400, and the
trashcan shows a non-administrator only what they deleted themselves.
"""

from __future__ import annotations

import urllib.parse
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from devtools.alfresco_sim import params
from devtools.alfresco_sim.content_model import is_subtype
from devtools.alfresco_sim.http_types import (
    ApiError,
    BytesResponse,
    Context,
    JsonResponse,
    denied,
    not_found,
)
from devtools.alfresco_sim.model import Node
from devtools.alfresco_sim.render import (
    NODE_INCLUDES,
    Views,
    list_body,
    paginate,
    restrict_fields,
)

CHILD_ORDER = {
    "isFolder": lambda n: n.is_folder,
    "name": lambda n: n.name.casefold(),
    "mimeType": lambda n: n.content.mime_type if n.content else "",
    "nodeType": lambda n: n.node_type,
    "sizeInBytes": lambda n: len(n.content.data) if n.content else 0,
    "modifiedAt": lambda n: n.modified_at,
    "createdAt": lambda n: n.created_at,
    "modifiedByUser": lambda n: n.modified_by,
    "createdByUser": lambda n: n.created_by,
}


def _include(context: Context) -> list[str]:
    return [value for value in params.csv(context.request, "include") if value in NODE_INCLUDES]


def _readable_node(context: Context, node_ref: str) -> Node:
    repo, request = context.repository, context.request
    try:
        node = repo.resolve(node_ref, request.user)
        relative = request.arg("relativePath")
        if relative:
            node = repo.resolve_relative(node, relative)
    except (KeyError, StopIteration) as exc:
        raise not_found(node_ref) from exc
    if not repo.can_read(request.user, node):
        raise denied()
    return node


def get_node(context: Context) -> JsonResponse:
    with context.repository.lock:
        node = _readable_node(context, context.request.params["nodeId"])
        entry = Views(context.repository, context.request.user).node(
            node, _include(context), full=True
        )
    return JsonResponse(
        200, {"entry": restrict_fields(entry, params.csv(context.request, "fields"))}
    )


def _child_filter(context: Context) -> Any:
    where = params.where_clauses(
        context.request, ("isFile", "isFolder", "nodeType", "isPrimary", "assocType")
    )

    def accept(node: Node) -> bool:
        if "isFile" in where and node.is_file != (where["isFile"].lower() == "true"):
            return False
        if "isFolder" in where and node.is_folder != (where["isFolder"].lower() == "true"):
            return False
        if "nodeType" in where:
            wanted, _, modifier = where["nodeType"].partition(" ")
            subtypes = modifier.strip().upper() == "INCLUDESUBTYPES"
            if not (is_subtype(node.node_type, wanted) if subtypes else node.node_type == wanted):
                return False
        if where.get("isPrimary", "true").lower() != "true":
            return False
        return where.get("assocType", node.assoc_type) == node.assoc_type

    return accept


def list_children(context: Context) -> JsonResponse:
    repo, request = context.repository, context.request
    skip_count, max_items = params.paging(request)
    accept = _child_filter(context)
    include = _include(context)
    with repo.lock:
        parent = _readable_node(context, request.params["nodeId"])
        if not parent.is_folder:
            raise ApiError(400, "NodeId of folder is expected")
        readable = repo.reader(request.user)
        children = [
            child
            for child in repo.child_nodes(parent.id)
            if child.assoc_type == "cm:contains" and accept(child) and readable(child)
        ]
        ordered = params.order_by(request, children, CHILD_ORDER)
        if ordered is None:
            ordered = sorted(children, key=lambda n: (not n.is_folder, n.name.casefold()))
        page, pagination = paginate(ordered, skip_count, max_items)
        views = Views(repo, request.user)
        fields = params.csv(request, "fields")
        entries = [restrict_fields(views.node(n, include, child=True), fields) for n in page]
        extra = {}
        if params.boolean(request, "includeSource", False):
            extra["source"] = views.node(parent, (), full=True)
    return JsonResponse(200, list_body(entries, pagination, **extra))


def get_content(context: Context) -> BytesResponse:
    request = context.request
    with context.repository.lock:
        node = _readable_node(context, request.params["nodeId"])
        if not node.is_file:
            raise ApiError(400, f"NodeId of content is expected: {node.id}")
        if node.content is None:
            raise ApiError(404, f"No content found for node {node.id}")
        data, mime_type, modified = node.content.data, node.content.mime_type, node.modified_at
        encoding, name = node.content.encoding, node.name
    headers = {
        "Last-Modified": format_datetime(modified.replace(microsecond=0), usegmt=True),
        "Accept-Ranges": "bytes",
    }
    if params.boolean(request, "attachment", True):
        quoted = urllib.parse.quote(name)
        ascii_name = name.encode("ascii", "replace").decode().replace('"', "_")
        headers["Content-Disposition"] = (
            f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quoted}"
        )
    since = request.header("If-Modified-Since")
    if since:
        try:
            if modified.replace(microsecond=0) <= parsedate_to_datetime(since):
                return BytesResponse(304, b"", headers=headers)
        except (TypeError, ValueError):
            pass
    content_type = f"{mime_type};charset={encoding}" if mime_type.startswith("text/") else mime_type
    requested = request.header("Range")
    if requested:
        start, end = _byte_range(requested, len(data))
        headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
        return BytesResponse(206, data[start : end + 1], content_type, headers)
    return BytesResponse(200, data, content_type, headers)


def _byte_range(header: str, size: int) -> tuple[int, int]:
    unit, _, spec = header.partition("=")
    first, _, last = spec.partition("-")
    try:
        if unit.strip() != "bytes" or "," in spec:
            raise ValueError(header)
        if first == "":
            start, end = max(0, size - int(last)), size - 1
        else:
            start, end = int(first), min(int(last), size - 1) if last else size - 1
    except ValueError as exc:
        raise ApiError(416, f"Invalid range: {header}") from exc
    if start >= size or start > end:
        raise ApiError(
            416, f"Range not satisfiable: {header}", headers={"Content-Range": f"bytes */{size}"}
        )
    return start, end


def list_comments(context: Context) -> JsonResponse:
    repo, request = context.repository, context.request
    skip_count, max_items = params.paging(request)
    with repo.lock:
        node = _readable_node(context, request.params["nodeId"])
        if not (node.is_file or node.is_folder):
            raise ApiError(400, f"NodeId of file or folder is expected: {node.id}")
        page, pagination = paginate(repo.comments_of(node), skip_count, max_items)
        views = Views(repo, request.user)
        admin = repo.is_admin(request.user)
        entries = [
            views.comment(post, can_edit=admin or post.created_by == request.user) for post in page
        ]
        fields = params.csv(request, "fields")
    return JsonResponse(200, list_body((restrict_fields(e, fields) for e in entries), pagination))


def _trash_visible(context: Context) -> list[Node]:
    repo, user = context.repository, context.request.user
    admin = repo.is_admin(user)
    items = [
        n for n in repo.archive.values() if n.archive and (admin or n.archive.archived_by == user)
    ]
    return sorted(
        items, key=lambda n: n.archive.archived_at if n.archive else n.modified_at, reverse=True
    )


def list_deleted(context: Context) -> JsonResponse:
    request = context.request
    skip_count, max_items = params.paging(request)
    with context.repository.lock:
        page, pagination = paginate(_trash_visible(context), skip_count, max_items)
        views = Views(context.repository, request.user)
        entries = [views.deleted_node(n, _include(context)) for n in page]
    return JsonResponse(200, list_body(entries, pagination))


def get_deleted(context: Context) -> JsonResponse:
    node_id = context.request.params["nodeId"]
    with context.repository.lock:
        node = next((n for n in _trash_visible(context) if n.id == node_id), None)
        if node is None:
            raise not_found(node_id)
        entry = Views(context.repository, context.request.user).deleted_node(
            node, [*_include(context), "aspectNames", "properties"]
        )
    return JsonResponse(200, {"entry": entry})
