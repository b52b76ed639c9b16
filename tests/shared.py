"""Test material Quarry does not ship: the Alfresco API definitions and the relevance datasets.

It is found in one place, ``QUARRY_SHARED_DIR`` (default: the ``shared`` folder beside the
checkout). Where it is missing, a test that needs it is skipped with one line naming what is
missing and how to provide it, so a fresh clone passes ``make test``. CI sets
``QUARRY_REQUIRE_SHARED=1``, which turns that skip into a failure: a missing folder there can
never hide a broken contract.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    return Path(os.environ.get("QUARRY_SHARED_DIR", ROOT.parent / "shared"))


def require_shared(relative: str, what: str) -> Path:
    """The path of ``relative`` under the shared folder; skips (fails in CI) the test when absent."""
    path = shared_dir() / relative
    if path.exists():
        return path
    reason = (
        f"{what}: {path} is missing; set QUARRY_SHARED_DIR to the folder that holds "
        f"{relative} (default: the shared/ folder beside the checkout)"
    )
    if os.environ.get("QUARRY_REQUIRE_SHARED") == "1":
        pytest.fail(f"{reason} [QUARRY_REQUIRE_SHARED=1: these tests must run]", pytrace=False)
    pytest.skip(reason)
