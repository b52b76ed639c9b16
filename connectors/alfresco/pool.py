"""Bounded, order-preserving parallel map for downloads.

Results come back in input order so that a crawl's output (and so its checkpoints) does not
depend on thread timing, and at most ``window`` calls are in flight or waiting to be read,
which bounds memory when each result holds a document's content.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Executor, Future
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def ordered_map(
    pool: Executor, fn: Callable[[T], R], items: Iterable[T], window: int
) -> Generator[R, None, None]:
    pending: deque[Future[R]] = deque()
    try:
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) >= window:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:  # the consumer stopped early or a call failed: drop what has not started
        for future in pending:
            future.cancel()
