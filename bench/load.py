"""HTTP load test: concurrent searchers with JWTs against a real uvicorn API, then BM25-only.

    python bench/load.py [--clients 50] [--duration 60] [--bm25-duration 30] [--docs 10000]
                         [--rounds 2] [--warmup 60]

The index (``--prefix``, kept between runs unless ``--drop``) is built through the real
ingestion pipeline with real all-MiniLM-L6-v2 vectors. Embedding 10k distinct documents on two
shared cores would take over ten minutes, so documents reuse a small vocabulary: each is one of
``--titles`` titles over one of ``--bodies`` generated passages, which makes only titles x
bodies distinct texts to embed (the embedder caches the rest, also on disk between runs).
Every document still has its own id, ACL, attributes and dates. Queries are drawn fresh each
run from a large space of word combinations, so most are embedded by the model inside the
measured time, as in production. Each searcher carries a signed JWT; the API adds the identity
store's nested groups and applies the ACL filter. The BM25-only phase (admin ``mode=bm25``)
runs in the same process against the same server, after an unmeasured warm-up of both
(``--warmup`` seconds, with queries of its own).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import jwt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from acl import EVERYONE, AccessControlList
from bench.common import ROOT, bench_runtime, percentile
from bench.textgen import document, query
from connectors.models import Document, GroupMembership
from search.runtime import Runtime

GROUPS = [f"GROUP_team{i}" for i in range(40)]
DEPARTMENTS = ["HR", "Finance", "Engineering", "Legal", "Sales", "Support"]
CATEGORIES = ["wiki", "policy", "report", "minutes"]
SOURCE = "load"


def build(rt: Runtime, docs: int, titles: int, bodies: int, rng: random.Random) -> None:
    rt.index.ensure()
    rt.writer.refresh()
    if rt.es.count(index=rt.settings.docs_alias).body["count"] == docs:
        print(f"reusing the {docs}-document index {rt.settings.docs_alias}", flush=True)
        return
    rt.index.delete()
    rt.index.ensure()
    title_pool = [f"{document(random.Random(10_000 + i), 6).rstrip('.')}" for i in range(titles)]
    body_pool = [document(random.Random(20_000 + i), 45) for i in range(bodies)]
    # Nested groups: team i is inside team i // 4 + 30 (a few levels for the identity store).
    rt.identities.put_memberships(
        SOURCE,
        [GroupMembership(group=GROUPS[30 + i // 4 % 10], groups=[GROUPS[i]]) for i in range(30)],
    )
    print(f"building {docs} documents ({titles * bodies} distinct texts to embed)...", flush=True)
    started = time.time()
    batch: list[Document] = []
    base = datetime(2022, 1, 1, tzinfo=UTC)
    for i in range(docs):
        if rng.random() < 0.2:
            acl = AccessControlList(allow_groups=[EVERYONE])
        else:
            acl = AccessControlList(
                allow_groups=rng.sample(GROUPS, 2),
                deny_users=[f"user{rng.randrange(200)}"] if rng.random() < 0.1 else [],
            )
        batch.append(
            Document(
                id=f"load:{i}",
                title=rng.choice(title_pool),
                text=rng.choice(body_pool),
                content_type="text/plain",
                category=rng.choice(CATEGORIES),
                authors=[f"author{rng.randrange(50)}"],
                created_at=base + timedelta(hours=rng.randrange(30_000)),
                attributes={"department": rng.choice(DEPARTMENTS), "pages": rng.randrange(1, 40)},
                acl=acl,
                source_uri=f"https://intranet.example/load/{i}",
            )
        )
        if len(batch) == 500 or i == docs - 1:
            stats = rt.pipeline.write_batch(SOURCE, batch)
            if stats.failed:
                raise SystemExit(f"indexing failed: {list(stats.failed.items())[:3]}")
            batch = []
            print(f"  {i + 1}/{docs} ({(i + 1) / (time.time() - started):.0f} docs/s)", flush=True)
    rt.writer.refresh()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    rt: Runtime, port: int, secret_file: Path, admin_key: str
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "QUARRY_ES_URL": rt.settings.es_url,
        "QUARRY_INDEX_PREFIX": rt.settings.index_prefix,
        "QUARRY_JWT_SHARED_SECRET_REF": f"file:{secret_file}",
        "QUARRY_ADMIN_KEY_SHA256": hashlib.sha256(admin_key.encode()).hexdigest(),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    if rt.settings.embedding_cache_path is not None:
        env["QUARRY_EMBEDDING_CACHE_PATH"] = str(rt.settings.embedding_cache_path)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "api.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
    )


def wait_ready(url: str, token: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                # The first query loads the model; it must not count as a measured request.
                warm = httpx.post(
                    f"{url}/v1/query",
                    timeout=120,
                    json={"query_text": "warm up", "user_context": {"token": token}},
                )
                warm.raise_for_status()
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit("the API did not become ready")


class Phase:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.errors = 0
        self.elapsed = 0.0
        self.reasons: Counter[str] = Counter()
        """Why requests failed (status code and detail, or the exception): errors get found."""

    @property
    def requests(self) -> int:
        return len(self.latencies) + self.errors

    def add(self, other: Phase) -> None:
        self.latencies += other.latencies
        self.errors += other.errors
        self.elapsed += other.elapsed
        self.reasons.update(other.reasons)


async def run_phase(
    url: str,
    clients: int,
    duration: float,
    tokens: list[str],
    queries: list[str],
    rng: random.Random,
    params: dict[str, str],
    headers: dict[str, str],
) -> Phase:
    phase = Phase()
    stop_at = time.monotonic() + duration
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:

        async def searcher(seed: int) -> None:
            local = random.Random(seed)
            while time.monotonic() < stop_at:
                body = {
                    "query_text": local.choice(queries),
                    "page_size": 10,
                    "facets": [{"attribute": "_category"}],
                    "user_context": {"token": local.choice(tokens)},
                }
                started = time.perf_counter()
                reason = None
                try:
                    response = await http.post(
                        "/v1/query", json=body, params=params, headers=headers
                    )
                    if response.status_code != 200:
                        reason = f"HTTP {response.status_code}: {response.text[:200]}"
                except httpx.HTTPError as exc:
                    reason = f"{type(exc).__name__}: {exc}"
                if reason is None:
                    phase.latencies.append((time.perf_counter() - started) * 1000)
                else:
                    phase.errors += 1
                    phase.reasons[reason] += 1

        started = time.monotonic()
        await asyncio.gather(*(searcher(rng.randrange(2**32)) for _ in range(clients)))
        phase.elapsed = time.monotonic() - started
    return phase


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of the hybrid phase")
    parser.add_argument(
        "--bm25-duration", type=float, default=30.0, help="seconds of the BM25-only phase"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="alternate the two phases this often (drift on busy hosts)",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=60.0,
        help="unmeasured seconds of both phases first: a freshly started Elasticsearch needs "
        "about a minute under load before its rates settle (JIT, caches)",
    )
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--titles", type=int, default=10)
    parser.add_argument("--bodies", type=int, default=40)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--prefix", default="bench-load")
    parser.add_argument("--drop", action="store_true", help="delete the bench indices afterwards")
    args = parser.parse_args()

    rt = bench_runtime(args.prefix)
    build(rt, args.docs, args.titles, args.bodies, random.Random(7))
    rng = random.Random()  # fresh queries each run: they are embedded inside the measured time
    secret, admin_key = secrets.token_urlsafe(48), secrets.token_urlsafe(32)
    expiry = int(time.time()) + 3600
    tokens = [
        jwt.encode(
            {"sub": f"user{u}", "groups": rng.sample(GROUPS, 3), "exp": expiry},
            secret,
            algorithm="HS256",
        )
        for u in range(args.users)
    ]
    queries = [query(rng) for _ in range(5000)]
    with tempfile.TemporaryDirectory() as tmp:
        secret_file = Path(tmp) / "jwt-secret"
        secret_file.write_text(secret)
        port = free_port()
        server = start_server(rt, port, secret_file, admin_key)
        url = f"http://127.0.0.1:{port}"
        admin = {"Authorization": f"Bearer {admin_key}"}
        try:
            wait_ready(url, tokens[0])
            # Unmeasured, both phases alike: a freshly started Elasticsearch compiles and
            # caches as it goes, which would weigh on whichever phase runs first.
            # Its queries come from document text, not from the measured queries' space, so
            # the API's query cache holds none of those when the measurement starts.
            warm = [" ".join(document(random.Random(-i), 12).split()[:4]) for i in range(1, 500)]
            measured = set(queries)
            warm = [q for q in warm if q not in measured]
            for params, headers in (({}, {}), ({"mode": "bm25"}, admin)):
                asyncio.run(
                    run_phase(
                        url, args.clients, args.warmup / 2, tokens, warm, rng, params, headers
                    )
                )
            hybrid, bm25 = Phase(), Phase()
            # Alternating rounds: on a shared machine, other load drifts over a minute, and
            # would otherwise weigh on one phase only.
            for _ in range(args.rounds):
                hybrid.add(
                    asyncio.run(
                        run_phase(
                            url,
                            args.clients,
                            args.duration / args.rounds,
                            tokens,
                            queries,
                            rng,
                            {},
                            {},
                        )
                    )
                )
                bm25.add(
                    asyncio.run(
                        run_phase(
                            url,
                            args.clients,
                            args.bm25_duration / args.rounds,
                            tokens,
                            queries,
                            rng,
                            {"mode": "bm25"},
                            admin,
                        )
                    )
                )
        finally:
            server.terminate()
            server.wait(timeout=30)
    if args.drop:
        rt.es.indices.delete(
            index=f"{args.prefix}-*", ignore_unavailable=True, allow_no_indices=True
        )
    for name, phase in (("product", hybrid), ("bm25", bm25)):
        for reason, count in phase.reasons.most_common():
            print(f"error ({name}) x{count}: {reason}")
    # Rates count successful requests only: a failed request is not served throughput.
    rps = len(hybrid.latencies) / hybrid.elapsed
    bm25_rps = len(bm25.latencies) / bm25.elapsed
    print(
        f"load: clients={args.clients} requests={hybrid.requests} "
        f"errors={hybrid.errors + bm25.errors} rps={rps:.1f} "
        f"p50_ms={percentile(hybrid.latencies, 50):.0f} "
        f"p95_ms={percentile(hybrid.latencies, 95):.0f} bm25_rps={bm25_rps:.1f} "
        f"bm25_p95_ms={percentile(bm25.latencies, 95):.0f} rps_ratio={rps / bm25_rps:.2f}"
    )


if __name__ == "__main__":
    main()
