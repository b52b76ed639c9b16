"""End-to-end ingestion rate (extract, chunk, embed, bulk write) against the raw model rate.

    python bench/ingest.py [--docs 120] [--words 450]

Both halves of the same synthetic corpus (odd and even documents, the same size distribution)
run in one process: the model alone encodes one half's passages, the whole pipeline ingests
the other half through the real Elasticsearch. Neither uses the embedding cache, so each text
is really encoded once. ratio = pipeline passages/s ÷ encode-only passages/s.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from acl import AccessControlList
from bench.common import bench_runtime
from bench.textgen import document
from connectors.models import Document
from search.chunk import split_passages
from search.embed import Embedder
from search.runtime import Runtime


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--docs", type=int, default=120)
    parser.add_argument("--words", type=int, default=450)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args()

    rng = random.Random(args.seed)
    docs = [
        Document(
            id=f"ingest:{i}",
            title=f"Operations note {i}",
            content=document(rng, args.words).encode(),
            content_type="text/plain",
            acl=AccessControlList(allow_groups=[f"GROUP_{i % 7}"]),
        )
        for i in range(args.docs * 2)
    ]
    baseline_docs, pipeline_docs = docs[0::2], docs[1::2]

    embedder = Embedder(cache_size=0)  # no cache: every text is encoded
    embedder.warm_up()
    base = bench_runtime("qbench-ingest")
    rt = Runtime(base.settings, embedder=embedder)
    rt.index.delete()
    rt.index.ensure()

    texts = []
    for d in baseline_docs:
        assert d.content is not None
        for p in split_passages(d.content.decode(), d.title):
            texts.append(f"{d.title}\n{p.text}")
    started = time.perf_counter()
    for start in range(0, len(texts), 64):
        embedder.encode(texts[start : start + 64])
    encode_rate = len(texts) / (time.perf_counter() - started)

    started = time.perf_counter()
    passages = 0
    for start in range(0, len(pipeline_docs), rt.settings.bulk_batch_docs):
        stats = rt.pipeline.write_batch(
            "ingest", pipeline_docs[start : start + rt.settings.bulk_batch_docs]
        )
        assert not stats.failed, stats.failed
        passages += stats.passages
    rt.writer.refresh()
    elapsed = time.perf_counter() - started
    docs_rate = len(pipeline_docs) / elapsed
    passage_rate = passages / elapsed
    rt.index.delete()
    print(
        f"baseline: {len(texts)} passages encoded; pipeline: {len(pipeline_docs)} docs, {passages} passages"
    )
    print(
        f"ingest: docs_per_s={docs_rate:.2f} passages_per_s={passage_rate:.2f} "
        f"encode_only_passages_per_s={encode_rate:.2f} ratio={passage_rate / encode_rate:.2f}"
    )


if __name__ == "__main__":
    main()
