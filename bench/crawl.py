"""Alfresco crawl throughput against the simulator, by request latency and concurrency.

    python bench/crawl.py [--files-per-site 60] [--sites 2]

Runs full crawls of the same generated repository with 0 and 20 ms of latency added to every
request, at concurrency 1, 4 and 8, and reports items per second and the speed-up over
concurrency 1 at the same latency (the baseline in the same run). One unmeasured crawl
first warms the process up, so the first baseline is not charged for it.

The crawl lists folders ahead of its walk and downloads documents while it lists, up to
``concurrency`` requests at a time, in the same order and with the same checkpoints as one
request at a time: at 20 ms per request, concurrency 8 approaches 8 times concurrency 1, less
what the single-threaded parts (site containers, the group list, Python itself) cost.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connectors.base import CrawlLimits
from connectors.models import Document, SyncMode
from connectors.registry import build_connector
from devtools.alfresco_sim import generate_repository, start_simulator

SECRET_ENV = "QUARRY_BENCH_ALFRESCO_SECRET"


def crawl_rate(base_url: str, sites: list[str], concurrency: int) -> tuple[int, float]:
    connector = build_connector(
        "alfresco",
        {
            "site_url": base_url,
            "site_ids": sites,
            "secret_ref": f"env:{SECRET_ENV}",
            "concurrency": concurrency,
            "crawl_comments": True,
        },
        "bench",
    )
    started = time.perf_counter()
    items = sum(
        1
        for item in connector.crawl(SyncMode.FORCED_FULL, None, CrawlLimits())
        if isinstance(item, Document)
    )
    return items, items / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sites", type=int, default=2)
    parser.add_argument("--files-per-site", type=int, default=60)
    parser.add_argument("--latencies", default="0,20")
    parser.add_argument("--concurrency", default="1,4,8")
    args = parser.parse_args()

    os.environ[SECRET_ENV] = json.dumps({"username": "admin", "password": "admin"})
    repository = generate_repository(seed=7, sites=args.sites, files_per_site=args.files_per_site)
    with start_simulator(repository) as sim:
        sites = sorted(sim.repository.sites)
        crawl_rate(sim.base_url, sites, 1)  # warm-up, unmeasured: imports, connections, caches
        last = ""
        for latency in [int(x) for x in args.latencies.split(",")]:
            sim.faults.set_latency(latency)
            base_rate = None
            for concurrency in [int(x) for x in args.concurrency.split(",")]:
                items, rate = crawl_rate(sim.base_url, sites, concurrency)
                base_rate = base_rate or rate
                last = (
                    f"crawl: latency_ms={latency} concurrency={concurrency} "
                    f"items_per_s={rate:.1f} speedup_vs_c1={rate / base_rate:.2f}"
                )
                print(f"{last} (items={items})", flush=True)
        print(last)


if __name__ == "__main__":
    main()
