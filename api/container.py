"""The one service container every face uses: the REST app, the Kendra face and the CLI.

Everything is built on first use, so ``quarry --help`` touches no backend and importing this
module loads neither FastAPI nor Elasticsearch. The REST app extends it (``api.deps.Services``)
with what only request handling needs: its token resolver and its group cache's lifetime.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from celery import Celery

    from acl import TokenResolver
    from search.faq import FaqStore
    from search.featured import FeaturedStore
    from search.principals import PrincipalService
    from search.query_log import FeedbackStore, QueryLog
    from search.relevance import RelevanceStore
    from search.runtime import Runtime
    from search.settings import Settings
    from sync_engine.service import DataSourceService, SyncService
    from sync_engine.verify import Verifier


class ServiceContainer:
    """Settings (``QUARRY_*`` unless given), the search runtime and the services above it."""

    tokens: TokenResolver | None = None
    """The user-context token resolver, where the face verifies tokens itself (the REST app)."""
    identity_cache_s: float = 0.0
    """How long resolved principals are cached (always checked against the identity generation)."""

    def __init__(self, settings: Settings | None = None, runtime: Runtime | None = None) -> None:
        if settings is not None:
            self.settings = settings
        if runtime is not None:
            self.runtime = runtime

    @cached_property
    def settings(self) -> Settings:
        from search.settings import Settings

        return Settings()

    @cached_property
    def runtime(self) -> Runtime:
        from search.runtime import Runtime

        return Runtime(self.settings)

    @cached_property
    def celery(self) -> Celery:
        from worker.app import create_app

        return create_app(self.settings)

    @cached_property
    def datasources(self) -> DataSourceService:
        from sync_engine.service import DataSourceService

        return DataSourceService(self.runtime)

    @cached_property
    def principals(self) -> PrincipalService:
        """The one path from a caller (token, test-as user, Kendra UserContext) to a principal."""
        from sync_engine.service import principal_service

        return principal_service(self.runtime, self.tokens, self.identity_cache_s)

    @cached_property
    def sync(self) -> SyncService:
        from sync_engine.service import SyncService

        return SyncService(self.runtime, self.celery)

    @cached_property
    def verifier(self) -> Verifier:
        """Compares a data source's index with the source (``quarry verify``)."""
        from sync_engine.service import verifier

        return verifier(self.runtime)

    @cached_property
    def query_log(self) -> QueryLog:
        from search.query_log import QueryLog

        return QueryLog(
            self.runtime.es,
            self.settings.system_index("queries"),
            self.settings.index_settings("system"),
        )

    @cached_property
    def feedback(self) -> FeedbackStore:
        from search.query_log import FeedbackStore

        return FeedbackStore(
            self.runtime.es,
            self.settings.system_index("feedback"),
            self.settings.index_settings("system"),
        )

    @cached_property
    def faqs(self) -> FaqStore:
        from search.faq import FaqStore

        return FaqStore(self.runtime.es, self.settings.system_index("faqs"), self.runtime.embedder)

    @cached_property
    def featured(self) -> FeaturedStore:
        from search.featured import FeaturedStore

        return FeaturedStore(self.runtime.es, self.settings.system_index("featured"))

    @cached_property
    def relevance(self) -> RelevanceStore:
        """Each index's relevance tuning (importance, freshness), read on every query."""
        from search.relevance import RelevanceStore

        return RelevanceStore(
            self.runtime.es,
            self.settings.system_index("relevance"),
            self.settings.index_settings("system"),
        )

    @cached_property
    def redis(self) -> Any:
        from sync_engine.backends import readiness_client

        return readiness_client(self.settings.redis_url)
