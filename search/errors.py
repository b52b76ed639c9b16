"""Errors of the search core. Each carries a stable ``code`` the API maps to HTTP once."""

from __future__ import annotations

from quarry.errors import QuarryError


class SearchError(QuarryError):
    """Root of the search core's errors."""

    code = "search_error"


class BadRequest(SearchError):
    """The caller asked for something invalid (a field, a size, a filter)."""

    code = "bad_request"


class NotFound(SearchError):
    code = "not_found"


class Conflict(SearchError):
    code = "conflict"


class BackendUnavailable(SearchError):
    """Elasticsearch (or Redis) cannot be reached or keeps failing; retrying later may help."""

    code = "backend_unavailable"


class ReindexRequired(SearchError):
    """The index's vectors were made in another embedding space than the configured embedder's.

    Vectors of two spaces are never compared or mixed; ``quarry index reindex`` re-embeds."""

    code = "reindex_required"
