"""Embedding backends against torch fp32, in the same run: passages per second and dense nDCG@10.

    python bench/embed.py --dataset ../shared/datasets/scifact [--backend onnx-int8]
        [--passages 256] [--docs 0]

Speed: the same sample of the collection's passages (built as the pipeline builds them:
title + passage) encoded by torch fp32 and by the backend, alternately, twice each, no cache.
Quality: dense retrieval (a document scores its best passage's cosine) over the collection
(``--docs N``: the test split's relevant documents plus the first N others; 0: all), nDCG@10 on
the test queries with each backend's vectors. Torch vectors come from the embedding cache
(``QUARRY_EMBEDDING_CACHE_PATH``) when the relevance bench made them; the backend's are cached
under their own keys.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT
from bench.relevance import load, ndcg_at
from search.chunk import split_passages
from search.embed import Embedder
from search.embed_onnx import BACKENDS


def passages(corpus: dict[str, dict[str, str]]) -> list[tuple[str, str]]:
    """(doc id, text) as the pipeline embeds them."""
    out = []
    for doc_id, row in corpus.items():
        title = row.get("title", "")
        for p in split_passages(row.get("text", ""), title):
            out.append((doc_id, f"{title}\n{p.text}" if title and p.text != title else p.text))
    return out


def rate(embedder: Embedder, texts: list[str]) -> float:
    model = embedder._load()
    started = time.perf_counter()
    model.encode(texts, batch_size=embedder.batch_size, normalize_embeddings=True)
    return len(texts) / (time.perf_counter() - started)


def dense_ndcg(
    embedder: Embedder,
    items: list[tuple[str, str]],
    queries: dict[str, str],
    qrels: dict[str, dict[str, int]],
) -> float:
    vectors = np.stack(embedder.encode([t for _, t in items]))
    doc_ids = [d for d, _ in items]
    names = sorted(set(doc_ids))
    column = {d: i for i, d in enumerate(names)}
    owner = np.array([column[d] for d in doc_ids])
    scores = []
    for qid, text in queries.items():
        sims = vectors @ embedder.encode_query(text)
        best = np.full(len(names), -2.0, dtype=np.float32)
        np.maximum.at(best, owner, sims)
        ranked = [names[i] for i in np.argsort(-best)[:10]]
        scores.append(ndcg_at(ranked, qrels[qid]))
    return sum(scores) / len(scores)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument(
        "--backend", choices=[b for b in BACKENDS if b != "torch"], default="onnx-int8"
    )
    parser.add_argument("--passages", type=int, default=256, help="passages timed per backend")
    parser.add_argument("--docs", type=int, default=0, help="limit the quality corpus (0: all)")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when visible)")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    corpus, queries, qrels = load(args.dataset, "test")
    if args.docs:
        relevant = {d for rels in qrels.values() for d in rels}
        keep = relevant | set(list(corpus)[: args.docs])
        corpus = {d: row for d, row in corpus.items() if d in keep}
    items = passages(corpus)
    sample = [t for _, t in random.Random(7).sample(items, min(args.passages, len(items)))]

    cache = Path(
        os.environ.get("QUARRY_EMBEDDING_CACHE_PATH", ROOT / "var" / "cache" / "embeddings.sqlite")
    )
    torch_fp32 = Embedder(cache_path=cache, device=args.device, query_backend="torch")
    other = Embedder(cache_path=cache, backend=args.backend, device=args.device)
    for e in (torch_fp32, other):  # load and warm up outside the timed part
        e._load().encode(sample[:8], batch_size=8, normalize_embeddings=True)
    torch_rates, other_rates = [], []
    for _ in range(2):
        torch_rates.append(rate(torch_fp32, sample))
        other_rates.append(rate(other, sample))
    torch_rate, other_rate = sum(torch_rates) / 2, sum(other_rates) / 2
    print(
        f"speed: {len(sample)} passages, torch {torch_rates}, {args.backend} {other_rates}",
        flush=True,
    )
    base = dense_ndcg(torch_fp32, items, queries, qrels)
    mine = dense_ndcg(other, items, queries, qrels)
    print(f"dense ndcg@10 on {len(corpus)} documents: torch={base:.4f} {args.backend}={mine:.4f}")
    print(
        f"embed: backend={args.backend} passages_per_s={other_rate:.1f} "
        f"torch_passages_per_s={torch_rate:.1f} speedup={other_rate / torch_rate:.2f} "
        f"ndcg_delta={mine - base:+.4f}"
    )


if __name__ == "__main__":
    main()
