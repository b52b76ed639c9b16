"""Tests that need material Quarry does not ship skip on a fresh clone, and fail in CI."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.shared import ROOT, require_shared, shared_dir


def test_the_default_is_the_shared_folder_beside_the_checkout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("QUARRY_SHARED_DIR", raising=False)
    assert shared_dir() == ROOT.parent / "shared"


def test_missing_material_skips_with_one_line_naming_it_and_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUARRY_SHARED_DIR", str(tmp_path))
    monkeypatch.delenv("QUARRY_REQUIRE_SHARED", raising=False)
    with pytest.raises(pytest.skip.Exception) as skipped:
        require_shared("alfresco-api", "Contract tests need the Alfresco definitions")
    reason = str(skipped.value)
    assert "\n" not in reason
    assert reason.startswith("Contract tests need the Alfresco definitions")
    assert str(tmp_path / "alfresco-api") in reason and "QUARRY_SHARED_DIR" in reason


def test_ci_turns_the_skip_into_a_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUARRY_SHARED_DIR", str(tmp_path))
    monkeypatch.setenv("QUARRY_REQUIRE_SHARED", "1")
    with pytest.raises(pytest.fail.Exception, match="QUARRY_SHARED_DIR"):
        require_shared("alfresco-api", "Contract tests need the Alfresco definitions")


def test_present_material_is_found_where_the_setting_points(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "alfresco-api").mkdir()
    monkeypatch.setenv("QUARRY_SHARED_DIR", str(tmp_path))
    monkeypatch.setenv("QUARRY_REQUIRE_SHARED", "1")
    assert require_shared("alfresco-api", "Contract tests") == tmp_path / "alfresco-api"
