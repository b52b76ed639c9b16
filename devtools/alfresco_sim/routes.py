"""The endpoints the simulator serves, by API (base path), method and path template.

Templates are spelled exactly as in the official definitions, which lets the contract
tests check that every served endpoint exists there and lets request counters use the
same names (``"GET /nodes/{nodeId}/children"``).
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass, field
from typing import Final

from devtools.alfresco_sim import api_directory, api_nodes, api_service, search
from devtools.alfresco_sim.http_types import Handler

API_BASES: Final = {
    "core": "/alfresco/api/-default-/public/alfresco/versions/1",
    "search": "/alfresco/api/-default-/public/search/versions/1",
    "auth": "/alfresco/api/-default-/public/authentication/versions/1",
    "discovery": "/alfresco/api",
}
DEFINITION_FILES: Final = {
    "core": "alfresco-core.yaml",
    "search": "alfresco-search.yaml",
    "auth": "alfresco-auth.yaml",
    "discovery": "alfresco-discovery.yaml",
}


@dataclass(frozen=True)
class Route:
    api: str
    method: str
    template: str
    handler: Handler
    authenticated: bool = True
    pattern: re.Pattern[str] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.template))
        object.__setattr__(self, "pattern", re.compile(regex))

    @property
    def endpoint(self) -> str:
        return f"{self.method} {self.template}"


ROUTES: Final = (
    Route("discovery", "GET", "/discovery", api_service.discovery),
    Route("auth", "POST", "/tickets", api_service.create_ticket, authenticated=False),
    Route("auth", "GET", "/tickets/-me-", api_service.validate_ticket),
    Route("auth", "DELETE", "/tickets/-me-", api_service.delete_ticket),
    Route("search", "POST", "/search", search.search),
    Route("core", "GET", "/nodes/{nodeId}", api_nodes.get_node),
    Route("core", "GET", "/nodes/{nodeId}/children", api_nodes.list_children),
    Route("core", "GET", "/nodes/{nodeId}/content", api_nodes.get_content),
    Route("core", "GET", "/nodes/{nodeId}/comments", api_nodes.list_comments),
    Route("core", "GET", "/deleted-nodes", api_nodes.list_deleted),
    Route("core", "GET", "/deleted-nodes/{nodeId}", api_nodes.get_deleted),
    Route("core", "GET", "/sites", api_directory.list_sites),
    Route("core", "GET", "/sites/{siteId}", api_directory.get_site),
    Route("core", "GET", "/sites/{siteId}/containers", api_directory.list_containers),
    Route("core", "GET", "/sites/{siteId}/containers/{containerId}", api_directory.get_container),
    Route("core", "GET", "/people", api_directory.list_people),
    Route("core", "GET", "/people/{personId}", api_directory.get_person),
    Route("core", "GET", "/people/{personId}/groups", api_directory.list_person_groups),
    Route("core", "GET", "/groups", api_directory.list_groups),
    Route("core", "GET", "/groups/{groupId}", api_directory.get_group),
    Route("core", "GET", "/groups/{groupId}/members", api_directory.list_group_members),
)


@dataclass(frozen=True)
class Match:
    route: Route | None
    params: dict[str, str]
    method_allowed: bool = True
    """False when the path exists but not for this method (405)."""


def _api_of(path: str) -> str | None:
    candidates = [api for api, base in API_BASES.items() if path.startswith(base + "/")]
    return max(candidates, key=lambda api: len(API_BASES[api]), default=None)


def match(method: str, raw_path: str) -> Match:
    """Find the route for a request path (percent-encoded, without the query string)."""
    api = _api_of(raw_path)
    if api is None:
        return Match(None, {})
    relative = raw_path[len(API_BASES[api]) :]
    path_exists = False
    for route in ROUTES:
        if route.api != api:
            continue
        found = route.pattern.fullmatch(relative)
        if found is None:
            continue
        path_exists = True
        if route.method == method:
            decoded = {k: urllib.parse.unquote(v) for k, v in found.groupdict().items()}
            return Match(route, decoded)
    return Match(None, {}, method_allowed=not path_exists)
