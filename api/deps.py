"""Per-process objects the routes share, built once by ``create_app`` and reached via the request.

Routes take ``Services`` as a dependency instead of importing globals, so tests build an app
over their own runtime (index prefix, embedder) and several apps can live in one process.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from fastapi import Request

from api.groups import GroupCache
from api.settings import ApiSettings
from api.store import FeedbackStore, QueryLog
from search.runtime import Runtime

if TYPE_CHECKING:
    from search.sync.service import DataSourceService, SyncService


class Services:
    """The runtime plus what only the API needs; heavy parts are built on first use."""

    def __init__(self, settings: ApiSettings, runtime: Runtime) -> None:
        self.settings = settings
        self.runtime = runtime
        # Built now, not per request: a broken key reference fails the start, not each query.
        self.tokens = settings.token_resolver()

    @cached_property
    def groups(self) -> GroupCache:
        return GroupCache(self.runtime.identities, self.settings.identity_cache_s)

    @cached_property
    def query_log(self) -> QueryLog:
        return QueryLog(self.runtime.es, self.settings.system_index("queries"))

    @cached_property
    def feedback(self) -> FeedbackStore:
        return FeedbackStore(self.runtime.es, self.settings.system_index("feedback"))

    @cached_property
    def celery(self) -> Any:
        from worker.app import create_app

        return create_app(self.settings)

    @cached_property
    def datasources(self) -> DataSourceService:
        from search.sync.service import DataSourceService

        return DataSourceService(self.runtime)

    @cached_property
    def sync(self) -> SyncService:
        from search.sync.service import SyncService

        return SyncService(self.runtime, self.celery)

    @cached_property
    def redis(self) -> Any:
        import redis

        return redis.Redis.from_url(
            self.settings.redis_url, socket_connect_timeout=2, socket_timeout=2
        )


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found
