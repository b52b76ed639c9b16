"""A bounded queue between a producer iterator and its consumer, each in its own thread.

The sync engine reads the connector (network I/O) in one thread while the pipeline embeds and
writes the previous batch (CPU) in another; the bound keeps a fast source from filling memory.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

_ITEM, _END, _ERROR = "item", "end", "error"


def prefetched(source: Iterator[T], maxsize: int) -> Generator[T, None, None]:
    """Yield ``source``'s items in order, read ahead by at most ``maxsize`` items.

    An exception in ``source`` is raised in the consumer at the point it occurred; closing
    the consumer early stops the producer at its next item.
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
            kind, value = buffer.get()
            if kind == _ITEM:
                yield value
            elif kind == _END:
                return
            else:
                raise value
    finally:
        stop.set()
