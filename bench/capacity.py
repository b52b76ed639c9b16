"""Capacity figures for docs/scaling.md: embedding throughput per thread and process memory.

Prints ``capacity: threads=N passages_per_s=… rss_mb=…`` for 1 and 2 torch threads over the
same passages (~220 words each, the pipeline's chunk size), in one process, after a warm-up.
Index bytes per passage come from Elasticsearch's ``_disk_usage`` API (see docs/scaling.md).
"""

from __future__ import annotations

import random
import resource
import time

import torch

from bench.textgen import document
from search.embed import Embedder


def main(passages: int = 64) -> None:
    rng = random.Random(16)
    texts = [document(rng, 220) for _ in range(passages)]
    embedder = Embedder(cache_size=0)
    embedder.warm_up()
    for threads in (1, 2):
        torch.set_num_threads(threads)
        embedder.encode(texts[:8])  # warm the thread pool
        started = time.perf_counter()
        embedder.encode(texts)
        rate = passages / (time.perf_counter() - started)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"capacity: threads={threads} passages_per_s={rate:.1f} rss_mb={rss:.0f}")


if __name__ == "__main__":
    main()
