"""Run the simulator standalone: ``python -m devtools.alfresco_sim --port 8899``.

Prints the base URL on its first line of output, then serves until interrupted.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from devtools.alfresco_sim.faults import Faults
from devtools.alfresco_sim.generator import GeneratorConfig, generate_repository
from devtools.alfresco_sim.sample_population import people_from_json
from devtools.alfresco_sim.server import start_simulator


def _load(path: str) -> Any:
    text = Path(path).read_text(encoding="utf-8")
    if path.endswith((".yaml", ".yml")):
        import yaml

        return yaml.safe_load(text)
    return json.loads(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.alfresco_sim",
        description="An Alfresco Content Services (Public REST API v1) simulator.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8899, help="0 picks a free port")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sites", type=int, default=2)
    parser.add_argument("--files-per-site", type=int, default=20)
    parser.add_argument("--users-file", help="JSON/YAML: extra users (see people_from_json)")
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--search-lag-ms", type=int, default=0)
    parser.add_argument(
        "--error-rate", type=float, default=0.0, help="share of API requests failing"
    )
    parser.add_argument("--error-status", type=int, default=503)
    parser.add_argument("--retry-after-s", type=int, default=None)
    parser.add_argument("--fault-seed", type=int, default=0)
    parser.add_argument("--faults-file", help="JSON/YAML: the body PUT /_sim/faults accepts")
    parser.add_argument("--ticket-ttl-s", type=float, default=3600.0)
    parser.add_argument("--log-level", default="WARNING")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(message)s"
    )
    extra = people_from_json(_load(args.users_file)) if args.users_file else ()
    config = GeneratorConfig(
        seed=args.seed, sites=args.sites, files_per_site=args.files_per_site, extra_people=extra
    )
    faults = Faults(
        latency_ms=args.latency_ms, search_lag_ms=args.search_lag_ms, seed=args.fault_seed
    )
    if args.faults_file:
        faults.configure(_load(args.faults_file))
    if args.error_rate > 0:
        faults.add_rule(
            status=args.error_status, rate=args.error_rate, retry_after_s=args.retry_after_s
        )
    handle = start_simulator(
        generate_repository(config),
        args.port,
        host=args.host,
        faults=faults,
        ticket_ttl_s=args.ticket_ttl_s,
    )
    print(handle.base_url, flush=True)
    print(
        f"Alfresco simulator (seed {args.seed}) serving {handle.core_url}",
        file=sys.stderr,
        flush=True,
    )
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        stop.wait()
    finally:
        handle.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
