"""Time to recover from infrastructure faults, and the drift left behind.

    python bench/recover.py            # runs the reliability suite (make reliability), then prints
    python bench/recover.py --report   # prints the figures of the last run only

Each experiment of ``tests/reliability`` breaks something mid-sync on the suite's own
Elasticsearch and Redis (restart, 45 s SIGSTOP, Redis restarted empty with the job running or
queued, a worker SIGKILLed), waits for the engine to finish the job by itself and records the
seconds from the fault's end to the job's end, then ``verify``'s drift. Prints:

    recover: es_restart_s= es_freeze_s= worker_kill_s= queue_loss_s= redis_restart_s= drift=0
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORT = Path(os.environ.get("QUARRY_RELIABILITY_REPORT", ROOT / "var" / "reliability.json"))
EXPERIMENTS = ("es_restart", "es_freeze", "worker_kill", "queue_loss", "redis_restart")


def summary(path: Path) -> str:
    latest: dict[str, dict[str, object]] = {}
    for line in path.read_text().splitlines():
        if line.strip():
            entry = json.loads(line)
            latest[str(entry["experiment"])] = entry
    parts = [
        f"{name}_s={latest[name]['recover_s'] if name in latest else 'n/a'}" for name in EXPERIMENTS
    ]
    drift = sum(int(str(e.get("drift", 0))) for e in latest.values())
    return "recover: " + " ".join(parts) + f" drift={drift}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--report", action="store_true", help="print the last run's figures")
    args = parser.parse_args()
    if not args.report:
        REPORT.unlink(missing_ok=True)
        rc = subprocess.call(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "-m",
                "reliability",
                "tests/reliability",
            ],
            cwd=ROOT,
        )
        if rc != 0:
            print(f"the reliability suite failed (exit {rc})", file=sys.stderr)
            return rc
    if not REPORT.exists():
        print(f"no figures in {REPORT}: run without --report first", file=sys.stderr)
        return 1
    print(summary(REPORT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
