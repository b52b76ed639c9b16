"""Query latency of hybrid retrieval + rerank under an ACL filter, against BM25-only, same run.

    python bench/query.py --passages 10000 [--queries 100] [--groups 2048] [--sources 5]

The index is built once per size (kept between runs) straight through the index writer, with
passage vectors mixed from a pool of real model embeddings: embedding 100k passages on two
cores would take hours, and latency depends on the vectors' shape, not their exact values.
Queries are embedded by the real model inside the measured time, as in production. Every query
carries a user with ``--groups`` groups, so the ACL filter is as large as Kendra allows; with
``--sources N`` the documents belong to N data sources (every other one case-insensitive) and
the user's groups are spread over them (a few global token groups, the rest per source), so
the filter has one clause per namespace as in production.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from acl import EVERYONE, Principal, SourceScope
from bench.common import bench_runtime, percentile
from bench.textgen import document, query
from search.query import QueryRequest, RetrievalMode
from search.runtime import Runtime

PASSAGES_PER_DOC = 4
GROUP_UNIVERSE = 5000
POOL = 256


def source_of(i: int, sources: int) -> str:
    return f"bench-{i % sources}" if sources > 1 else "bench"


def principal(rng: random.Random, groups: int, sources: int) -> Principal:
    """A user with ``groups`` groups: 48 global ones (a token's), the rest split over sources."""
    names = [f"GROUP_{g}" for g in rng.sample(range(GROUP_UNIVERSE), groups)]
    if sources <= 1:
        return Principal(user="bench-user", groups=frozenset(names))
    token = names[: min(48, groups)]
    rest = names[len(token) :]
    share = len(rest) // sources + 1
    scopes = {
        source_of(s, sources): SourceScope(
            groups=frozenset(rest[s * share : (s + 1) * share]), case_insensitive=s % 2 == 1
        )
        for s in range(sources)
    }
    return Principal(user="bench-user", groups=frozenset(token), sources=scopes)


def build(rt: Runtime, passages: int, rng: random.Random, sources: int = 1) -> None:
    rt.index.ensure()
    rt.writer.refresh()
    docs = passages // PASSAGES_PER_DOC
    if rt.es.count(index=rt.settings.docs_alias).body["count"] == docs:
        return
    rt.index.delete()
    rt.index.ensure()
    pool_texts = [document(random.Random(i), 60) for i in range(POOL)]
    pool = np.stack(rt.embedder.encode(pool_texts))
    print(f"building {docs} documents / {passages} passages...", flush=True)
    started = time.time()
    batch = []
    for i in range(docs):
        body_parts = [document(rng, 50) for _ in range(PASSAGES_PER_DOC)]
        vectors = (
            pool[rng.sample(range(POOL), PASSAGES_PER_DOC)]
            + 0.35 * pool[rng.sample(range(POOL), PASSAGES_PER_DOC)]
        )
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        groups = [f"GROUP_{rng.randrange(GROUP_UNIVERSE)}" for _ in range(2)]
        if rng.random() < 0.1:
            groups.append(EVERYONE)
        offset = 0
        passages_src = []
        for j, (text, vec) in enumerate(zip(body_parts, vectors, strict=True)):
            passages_src.append(
                {
                    "text": text,
                    "index": j,
                    "start": offset,
                    "end": offset + len(text),
                    "vector": vec.tolist(),
                }
            )
            offset += len(text) + 1
        batch.append(
            {
                "doc_id": f"q:{i}",
                "data_source_id": source_of(i, sources),
                "title": f"Note {i}: {body_parts[0][:40]}",
                "body": " ".join(body_parts),
                "passages": passages_src,
                "acl_allow_groups": groups,
                "acl_allow_users": [],
                "acl_deny_users": [],
                "acl_deny_groups": [],
                "content_hash": str(i),
            }
        )
        if len(batch) == 250:
            rt.writer.upsert(batch)
            batch = []
            if i % 5000 < 250:
                print(
                    f"  {i + 1}/{docs} ({(i + 1) / (time.time() - started):.0f} docs/s)", flush=True
                )
    if batch:
        rt.writer.upsert(batch)
    rt.writer.refresh()
    rt.es.options(request_timeout=3600).indices.forcemerge(
        index=rt.settings.docs_alias, max_num_segments=1
    )


def measure(rt: Runtime, queries: list[str], who: Principal, mode: RetrievalMode) -> list[float]:
    times = []
    for text in queries:
        started = time.perf_counter()
        rt.engine.search(QueryRequest(query_text=text, page_size=10), who, mode=mode)
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--passages", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--groups", type=int, default=2048)
    parser.add_argument("--sources", type=int, default=1)
    args = parser.parse_args()

    rng = random.Random(42)
    suffix = f"-s{args.sources}" if args.sources > 1 else ""
    rt = bench_runtime(f"qbench-query-{args.passages}{suffix}")
    build(rt, args.passages, rng, args.sources)
    rt.embedder.warm_up()
    who = principal(rng, args.groups, args.sources)
    warm = [query(random.Random(10_000 + i)) for i in range(20)]
    measure(rt, warm, who, RetrievalMode.RERANK)
    measure(rt, warm, who, RetrievalMode.BM25)
    seed = int(time.time())
    texts = [f"{query(random.Random(seed + i))} {i}" for i in range(args.queries)]
    hybrid = measure(rt, texts, who, RetrievalMode.RERANK)
    bm25 = measure(rt, texts, who, RetrievalMode.BM25)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    p95, b95 = percentile(hybrid, 95), percentile(bm25, 95)
    print(
        f"query: passages={args.passages} sources={args.sources} groups={who.group_count()} "
        f"p50_ms={percentile(hybrid, 50):.1f} p95_ms={p95:.1f} "
        f"bm25_p95_ms={b95:.1f} ratio={p95 / b95:.2f} rss_mb={rss_mb:.0f}"
    )


if __name__ == "__main__":
    main()
