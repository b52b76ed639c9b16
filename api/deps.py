"""Per-process objects the routes share, built once by ``create_app`` and reached via the request.

Routes take ``Services`` as a dependency instead of importing globals, so tests build an app
over their own runtime (index prefix, embedder) and several apps can live in one process.
"""

from __future__ import annotations

from fastapi import Request

from api.container import ServiceContainer
from api.settings import ApiSettings
from search.runtime import Runtime


class Services(ServiceContainer):
    """The shared container plus what only the API needs: tokens and the group cache's TTL."""

    settings: ApiSettings

    def __init__(self, settings: ApiSettings, runtime: Runtime) -> None:
        super().__init__(settings, runtime)
        # Built now, not per request: a broken key reference fails the start, not each query.
        self.tokens = settings.token_resolver()
        self.identity_cache_s = settings.identity_cache_s


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found
