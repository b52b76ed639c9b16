"""Folder listings read in the crawl's worker pool, ahead of the walk that consumes them.

A folder's pages are still read one after the other through ``AlfrescoClient.pages`` (its
completeness proof needs them in order), but in a pool thread and one page ahead of the
reader, so the walk can list the next folders while the current folder's documents download.
No pool task ever waits for another one, so a pool of any size, even one thread, progresses.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Executor, Future
from typing import Any


class Listing:
    """The pages of one folder's children; the first page is requested on creation."""

    def __init__(self, pool: Executor, pages: Iterator[list[Any]]) -> None:
        self._pool = pool
        self._pages = pages
        self._next: Future[list[Any] | None] = pool.submit(self._advance)

    def _advance(self) -> list[Any] | None:
        return next(self._pages, None)

    @property
    def waiting(self) -> Future[list[Any] | None]:
        """The request for the next page (done when ``take`` will not block)."""
        return self._next

    def ready(self) -> bool:
        return self._next.done()

    def take(self) -> list[Any] | None:
        """The next page (None at the end), asking for the one after it at once.

        Raises what the listing raised: ``ApiError`` for this listing, ``ConnectorError``
        for the whole crawl.
        """
        page = self._next.result()
        if page is not None:
            self._next = self._pool.submit(self._advance)
        return page

    def cancel(self) -> None:
        """Drop the page not yet requested (one being read finishes and is discarded)."""
        self._next.cancel()
