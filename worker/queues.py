"""Print a queue's name for the deployment's settings: ``python -m worker.queues tasks|batches``.

Start scripts use it to point ``celery worker -Q`` at the runner queue (sync runs, small
tasks) or the batch queue (a sync's batch tasks), exactly as the settings name them.
"""

from __future__ import annotations

import sys

from search.settings import Settings


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args not in (["tasks"], ["batches"]):
        print("usage: python -m worker.queues tasks|batches", file=sys.stderr)
        return 2
    settings = Settings()
    print(settings.task_queue if args == ["tasks"] else settings.batch_queue)
    return 0


if __name__ == "__main__":
    sys.exit(main())
