"""Ranking quality on a BEIR-layout collection: nDCG@10 and Recall@10 per retrieval mode.

    python bench/relevance.py [--dataset ../shared/datasets/scifact] [--split test] [--tune]
        [--backend onnx-int8]

The dataset defaults to ``datasets/scifact`` in ``QUARRY_SHARED_DIR`` (default ``../shared``).

Indexes the collection through Quarry's own pipeline (once; vectors are cached on disk),
then runs every test query through Quarry's own query path in each mode, asking for 10
results per query as users get them. ``--tune`` grid-searches the ranking knobs on the
*train* split and reports the best; never tune on test.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from acl import AccessControlList, Principal
from bench.common import bench_runtime
from connectors.models import Document
from search.engine import RankingParams, SearchEngine
from search.query import QueryRequest, RetrievalMode
from search.runtime import Runtime

PAGE_SIZE = 10
"""What users get: measuring with more results per query measured a different ranking."""


def load(
    dataset: Path, split: str
) -> tuple[dict[str, dict[str, str]], dict[str, str], dict[str, dict[str, int]]]:
    corpus = {}
    with (dataset / "corpus.jsonl").open() as f:
        for line in f:
            row = json.loads(line)
            corpus[row["_id"]] = row
    queries = {}
    with (dataset / "queries.jsonl").open() as f:
        for line in f:
            row = json.loads(line)
            queries[row["_id"]] = row["text"]
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    with (dataset / "qrels" / f"{split}.tsv").open() as f:
        next(f)
        for line in f:
            qid, did, score = line.rstrip("\n").split("\t")
            qrels[qid][did] = int(score)
    return corpus, {q: queries[q] for q in qrels}, qrels


def ensure_indexed(rt: Runtime, corpus: dict[str, dict[str, str]], source: str) -> None:
    rt.index.ensure()
    rt.writer.refresh()
    have = rt.es.count(index=rt.settings.docs_alias).body["count"]
    if have == len(corpus):
        return
    print(
        f"indexing {len(corpus)} documents (first run embeds them; later runs use the cache)...",
        flush=True,
    )
    public = AccessControlList.public()
    docs = [
        Document(
            id=doc_id,
            title=row.get("title", ""),
            text=row.get("text", ""),
            content_type="text/plain",
            acl=public,
        )
        for doc_id, row in corpus.items()
    ]
    started = time.time()
    for start in range(0, len(docs), 256):
        rt.pipeline.write_batch(source, docs[start : start + 256])
        done = min(start + 256, len(docs))
        print(f"  {done}/{len(docs)} ({done / (time.time() - started):.1f} docs/s)", flush=True)
    rt.writer.refresh()


def ndcg_at(ranked: list[str], rels: dict[str, int], k: int = 10) -> float:
    dcg = sum((2 ** rels.get(d, 0) - 1) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(rels.values(), reverse=True)[:k]
    idcg = sum((2**r - 1) / math.log2(i + 2) for i, r in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranked: list[str], rels: dict[str, int], k: int = 10) -> float:
    relevant = {d for d, r in rels.items() if r > 0}
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0


def evaluate(
    engine: SearchEngine,
    queries: dict[str, str],
    qrels: dict[str, dict[str, int]],
    mode: RetrievalMode,
) -> tuple[float, float]:
    ndcgs, recalls = [], []
    who = Principal.anonymous()
    for qid, text in queries.items():
        response = engine.search(
            QueryRequest(query_text=text[:1000], page_size=PAGE_SIZE), who, mode=mode
        )
        ranked = [r.id for r in response.results]
        ndcgs.append(ndcg_at(ranked, qrels[qid]))
        recalls.append(recall_at(ranked, qrels[qid]))
    return sum(ndcgs) / len(ndcgs), sum(recalls) / len(recalls)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    beside = Path(__file__).resolve().parents[2] / "shared"
    shared = Path(os.environ.get("QUARRY_SHARED_DIR", beside))
    parser.add_argument("--dataset", type=Path, default=shared / "datasets" / "scifact")
    parser.add_argument("--split", default="test")
    parser.add_argument("--tune", action="store_true", help="grid-search knobs on the train split")
    parser.add_argument("--modes", default="bm25,dense,hybrid,rerank")
    parser.add_argument(
        "--weights",
        type=lambda v: [float(w) for w in v.split(",")],
        default=[0.2, 0.3, 0.4, 0.5],
        help="lexical weights --tune tries",
    )
    parser.add_argument(
        "--analyzer",
        choices=["english", "standard"],
        default="english",
        help="standard: measure what the English analysis plugin is worth",
    )
    parser.add_argument(
        "--backend",
        choices=["torch", "onnx", "onnx-int8"],
        default=None,
        help="embedding backend (its own index when not torch's vector space)",
    )
    args = parser.parse_args()
    split = "train" if args.tune else args.split
    space = ""
    if args.backend is not None:
        os.environ["QUARRY_EMBEDDING_BACKEND"] = args.backend
        space = "-int8" if args.backend == "onnx-int8" else ""
    for needed in ("corpus.jsonl", "queries.jsonl", f"qrels/{split}.tsv"):
        if not (args.dataset / needed).is_file():
            parser.exit(
                2,
                f"relevance: {args.dataset / needed} is missing; pass --dataset a BEIR-layout "
                "folder (corpus.jsonl, queries.jsonl, qrels/<split>.tsv) or set "
                "QUARRY_SHARED_DIR to the folder holding datasets/scifact\n",
            )

    name = args.dataset.name.lower()
    suffix = "" if args.analyzer == "english" else "-standard"
    rt = bench_runtime(
        f"qbench-{name}{suffix}{space}", english=None if args.analyzer == "english" else False
    )
    corpus, queries, qrels = load(args.dataset, split)
    ensure_indexed(rt, corpus, name)

    if args.tune:
        best: tuple[float, float] | None = None
        for weight in args.weights:
            rt.engine.params = replace(RankingParams(), lexical_weight=weight)
            ndcg, _ = evaluate(rt.engine, queries, qrels, RetrievalMode.RERANK)
            print(f"train lexical_weight={weight} rerank ndcg@10={ndcg:.4f}", flush=True)
            if best is None or ndcg > best[0]:
                best = (ndcg, weight)
        print(f"best on train (ndcg@10, lexical_weight): {best}")
        return

    results = {}
    for mode_name in args.modes.split(","):
        mode = RetrievalMode(mode_name)
        started = time.time()
        ndcg, recall = evaluate(rt.engine, queries, qrels, mode)
        results[mode_name] = ndcg
        print(
            f"{mode_name:>7}: nDCG@10={ndcg:.4f} Recall@10={recall:.4f} ({len(queries)} queries, {time.time() - started:.1f}s)",
            flush=True,
        )
    print(
        "relevance ndcg@10: "
        + " ".join(
            f"{m}={results.get(m, float('nan')):.4f}" for m in ("bm25", "dense", "hybrid", "rerank")
        )
    )


if __name__ == "__main__":
    main()
