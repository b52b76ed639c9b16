"""A bounded queue between a producer iterator and its consumer, each in its own thread.

The sync engine reads the connector (network I/O) in one thread while the pipeline embeds and
writes the previous batch (CPU) in another; the bound keeps a fast source from filling memory.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

_ITEM, _END, _ERROR = "item", "end", "error"


def prefetched(
    source: Iterator[T],
    maxsize: int,
    idle: Callable[[], None] | None = None,
    idle_every_s: float = 0.2,
) -> Generator[T, None, None]:
    """Yield ``source``'s items in order, read ahead by at most ``maxsize`` items.

    An exception in ``source`` is raised in the consumer at the point it occurred; closing
    the consumer early stops the producer at its next item. ``idle`` is called every
    ``idle_every_s`` while the consumer waits for a slow source (what it raises, propagates).
    """
    if maxsize < 1:
        raise ValueError("maxsize must be at least 1")
    buffer: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize)
    stop = threading.Event()

    def put(entry: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                buffer.put(entry, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in source:
                if not put((_ITEM, item)):
                    return
            put((_END, None))
        except BaseException as exc:  # handed to the consumer, raised there
            put((_ERROR, exc))
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()

    producer = threading.Thread(target=produce, name="quarry-prefetch", daemon=True)
    producer.start()
    try:
        while True:
            if idle is None:
                kind, value = buffer.get()
            else:
                try:
                    kind, value = buffer.get(timeout=idle_every_s)
                except queue.Empty:
                    idle()
                    continue
            if kind == _ITEM:
                yield value
            elif kind == _END:
                return
            else:
                raise value
    finally:
        stop.set()
