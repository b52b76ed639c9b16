"""The layers hold at run time too: importing every module of the core loads no queue client,
and the CLI starts without the web framework."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _modules_loaded_after(code: str) -> set[str]:
    """Top-level modules in ``sys.modules`` after running ``code`` in a fresh interpreter."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_importing_every_search_module_loads_neither_celery_nor_redis() -> None:
    loaded = _modules_loaded_after(
        "import importlib, pkgutil, search\n"
        "for m in pkgutil.walk_packages(search.__path__, 'search.'):\n"
        "    importlib.import_module(m.name)\n"
        "import search.extract.office, search.suggest, search.query_log"  # named: must exist
    )
    assert "search" in loaded and "elasticsearch" in loaded
    assert not loaded & {"celery", "kombu", "redis"}


def test_the_cli_loads_without_the_web_framework_or_the_backends() -> None:
    loaded = _modules_loaded_after("import api.cli.main")
    assert "typer" in loaded
    assert not loaded & {"fastapi", "starlette", "elasticsearch", "celery", "redis"}
