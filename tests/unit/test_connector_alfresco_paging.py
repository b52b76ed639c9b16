"""Paging needs proof: a listing is complete only when the source's own counts agree.

The source here is a list held in the test, answered page by page the way Alfresco does
(``skipCount``/``maxItems``, ``hasMoreItems``, ``totalItems``), with ways to lie.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from connectors.alfresco.auth import Credentials
from connectors.alfresco.client import AlfrescoClient, ApiError, ReadAhead
from connectors.alfresco.config import AlfrescoConfig


class Source:
    def __init__(
        self,
        items: int,
        *,
        false_end_at: set[int] = frozenset(),
        total: int | None = -1,
        hide_total: bool = False,
    ) -> None:
        self.items = list(range(items))
        self.false_end_at = false_end_at
        """skipCounts whose page claims to be the last."""
        self.total = len(self.items) if total == -1 else total
        self.hide_total = hide_total
        self.reads: list[int] = []

    def fetch(self, paging: dict[str, int]) -> dict[str, Any]:
        skip, size = paging["skipCount"], paging["maxItems"]
        self.reads.append(skip)
        page = self.items[skip : skip + size]
        more = skip + len(page) < len(self.items) and skip not in self.false_end_at
        pagination: dict[str, Any] = {"count": len(page), "hasMoreItems": more}
        if not self.hide_total:
            pagination["totalItems"] = self.total
        return {"list": {"pagination": pagination, "entries": page}}


def _client(page_size: int) -> AlfrescoClient:
    config = AlfrescoConfig(
        site_url="http://127.0.0.1:1", site_ids=["s"], secret_ref="env:UNUSED", page_size=page_size
    )
    return AlfrescoClient(config, Credentials(username="u", password="p"))


def _read(source: Source, page_size: int = 10) -> list[int]:
    return [i for page in _client(page_size)._paged(source.fetch) for i in page]


def test_a_premature_last_page_is_read_past_when_the_total_says_more() -> None:
    source = Source(56, false_end_at={20})
    assert _read(source) == list(range(56))


def test_without_a_total_a_read_past_the_end_proves_the_end() -> None:
    source = Source(56, false_end_at={20}, hide_total=True)
    assert _read(source) == list(range(56))
    honest = Source(30, hide_total=True)
    assert _read(honest) == list(range(30))
    assert honest.reads == [0, 10, 20, 30]  # the last read found nothing: proof


def test_a_listing_that_stays_short_of_its_total_is_an_error() -> None:
    source = Source(30, total=45)
    with pytest.raises(ApiError) as caught:
        _read(source)
    assert caught.value.status == 0 and "30 of the 45" in caught.value.message


def test_honest_pages_cost_no_extra_read() -> None:
    source = Source(30)
    assert _read(source) == list(range(30))
    assert source.reads == [0, 10, 20]


def _read_ahead(source: Source, threads: int, page_size: int = 10) -> list[int]:
    """Paging through ``ReadAhead``, run in the pool it reads ahead in (as the crawl does)."""
    pool = ThreadPoolExecutor(threads)
    try:
        pages = _client(page_size)._paged(ReadAhead(source.fetch, pool, depth=3))
        return pool.submit(lambda: [i for page in pages for i in page]).result(timeout=30)
    finally:  # a deadlock (a read waiting for one queued behind it) fails, not hangs, here
        pool.shutdown(wait=False, cancel_futures=True)


@pytest.mark.parametrize("threads", [1, 4])
def test_reading_ahead_reads_the_same_pages_and_keeps_the_proofs(threads) -> None:
    honest = Source(95)
    assert _read_ahead(honest, threads) == list(range(95))
    assert sorted(honest.reads) == list(range(0, 95, 10))  # nothing twice, nothing past the end
    lying = Source(56, false_end_at={20})
    assert _read_ahead(lying, threads) == list(range(56))
    hidden = Source(56, false_end_at={20}, hide_total=True)
    assert _read_ahead(hidden, threads) == list(range(56))
    with pytest.raises(ApiError, match="30 of the 45"):
        _read_ahead(Source(30, total=45), threads)
