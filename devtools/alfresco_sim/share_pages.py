"""Share's document pages, so that a search result's link opens something a person can read.

Quarry links results to Share (``/share/page/site/<site>/document-details?nodeRef=…``,
``wiki-page?title=…``, ``blog-postview?postId=…``). The simulator answers those links with a
plain HTML page: the item's name, site, folder path, dates and text. Like Share, it asks
the visitor to sign in (HTTP basic: a simulator user and password) and shows the item only
to someone the repository lets read it.
"""

from __future__ import annotations

import html
import urllib.parse

from devtools.alfresco_sim.auth import TicketStore, authenticate
from devtools.alfresco_sim.http_types import ApiError, ApiRequest, BytesResponse
from devtools.alfresco_sim.model import Node
from devtools.alfresco_sim.repository import Repository

PREFIX = "/share/page/"
HTML_TYPE = "text/html;charset=UTF-8"
CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"


def _page(
    status: int, title: str, body: str, headers: dict[str, str] | None = None
) -> BytesResponse:
    text = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)} · Alfresco simulator</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;"
        "padding:0 1rem;color:#1d2430}dl{display:grid;grid-template-columns:max-content 1fr;"
        "gap:.2rem 1rem;color:#5b6473}pre{white-space:pre-wrap;background:#f6f7fa;"
        "padding:1rem;border-radius:6px}</style></head><body>"
        f"<p>Alfresco simulator · Share</p><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return BytesResponse(
        status,
        text.encode("utf-8"),
        HTML_TYPE,
        {"Content-Security-Policy": CSP, **(headers or {})},
    )


def _named(repository: Repository, site_id: str, component: str, name: str) -> Node:
    container = repository.container_id(site_id, component)
    for node in repository.child_nodes(container):
        if node.name == name:
            return node
    raise KeyError(name)


def _find(repository: Repository, path: str, query: dict[str, list[str]]) -> Node:
    """The node a Share link names; KeyError when there is none."""
    page = path.removeprefix(PREFIX)
    parts = page.split("/")

    def arg(name: str) -> str:
        values = query.get(name) or [""]
        if not values[0]:
            raise KeyError(name)
        return values[0]

    if parts[-1] == "document-details":
        return repository.resolve(arg("nodeRef"), "")
    if len(parts) == 3 and parts[0] == "site":
        site_id = urllib.parse.unquote(parts[1])
        if parts[2] == "wiki-page":
            return _named(repository, site_id, "wiki", arg("title"))
        if parts[2] == "blog-postview":
            return _named(repository, site_id, "blog", arg("postId"))
    raise KeyError(page)


def share_page(repository: Repository, tickets: TicketStore, request: ApiRequest) -> BytesResponse:
    """Answer a GET of a Share page link."""
    try:
        authenticate(request, repository, tickets)
    except ApiError as exc:
        return _page(
            401,
            "Sign in",
            "<p>Sign in with a simulator user (the demo's are listed in Quarry's README).</p>",
            exc.headers,
        )
    with repository.lock:
        try:
            node = _find(repository, request.path, request.query)
        except KeyError:
            return _page(404, "Not found", "<p>This link names no item of the repository.</p>")
        if not repository.can_read(request.user, node):
            return _page(
                403,
                "No access",
                f"<p>{html.escape(request.user)} may not read this item.</p>",
            )
        site = repository.site_id_of(node) or "(no site)"
        folders = [a.name for a in repository.ancestors(node)]
        path = "/".join(folders[folders.index(site) + 1 :] if site in folders else folders)
        text = node.content.text if node.content is not None else ""
        title = str(node.properties.get("cm:title") or node.name)
        facts = {
            "name": node.name,
            "site": site,
            "folder": path or "/",
            "modified": f"{node.modified_at:%Y-%m-%d %H:%M} UTC by {node.modified_by}",
            "created": f"{node.created_at:%Y-%m-%d %H:%M} UTC by {node.created_by}",
        }
    listing = "".join(
        f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in facts.items()
    )
    return _page(200, title, f"<dl>{listing}</dl><pre>{html.escape(text)}</pre>")
