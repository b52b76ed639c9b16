"""Secret references: env and file forms, and errors that never reveal the secret."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from acl import SecretError, SecretRef, read_secret

SECRET = "s3cr3t-value-that-must-not-leak"


class _Holder(BaseModel):
    model_config = ConfigDict(hide_input_in_errors=True)

    ref: SecretRef


def test_env_reference_reads_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUARRY_TEST_SECRET", SECRET)
    assert read_secret("env:QUARRY_TEST_SECRET") == SECRET


def test_file_reference_reads_the_file_and_drops_the_trailing_newline(tmp_path) -> None:
    path = tmp_path / "secret"
    path.write_text(SECRET + "\n", encoding="utf-8")
    assert read_secret(f"file:{path}") == SECRET


def test_file_reference_keeps_inner_newlines(tmp_path) -> None:
    path = tmp_path / "key.pem"
    path.write_text("line one\nline two\r\n", encoding="utf-8")
    assert read_secret(f"file:{path}") == "line one\nline two"


def test_unset_variable_names_the_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QUARRY_TEST_MISSING", raising=False)
    with pytest.raises(SecretError, match="env:QUARRY_TEST_MISSING") as info:
        read_secret("env:QUARRY_TEST_MISSING")
    assert info.value.code == "secret_unavailable"


def test_missing_file_names_the_reference(tmp_path) -> None:
    ref = f"file:{tmp_path / 'absent'}"
    with pytest.raises(SecretError, match="not found") as info:
        read_secret(ref)
    assert ref in str(info.value)


def test_directory_is_not_a_secret(tmp_path) -> None:
    with pytest.raises(SecretError, match="unavailable"):
        read_secret(f"file:{tmp_path}")


def test_non_utf8_file_is_refused_without_showing_bytes(tmp_path) -> None:
    path = tmp_path / "binary"
    path.write_bytes(b"\xff\xfe" + SECRET.encode())
    with pytest.raises(SecretError, match="not UTF-8") as info:
        read_secret(f"file:{path}")
    assert SECRET not in str(info.value)


@pytest.mark.parametrize("content", ["", "\n", "\r\n"])
def test_empty_secret_is_an_error(tmp_path, content: str) -> None:
    path = tmp_path / "empty"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SecretError, match="empty"):
        read_secret(f"file:{path}")


def test_empty_variable_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUARRY_TEST_EMPTY", "")
    with pytest.raises(SecretError, match="empty"):
        read_secret("env:QUARRY_TEST_EMPTY")


@pytest.mark.parametrize(
    "ref",
    [SECRET, "env:", "env:1BAD", "env:has space", "file:", "file:relative/path", "vault:x"],
)
def test_malformed_reference_is_refused_without_echoing_it(ref: str) -> None:
    with pytest.raises(SecretError, match="malformed") as info:
        read_secret(ref)
    shown = str(info.value).replace("env:NAME", "").replace("file:/absolute/path", "")
    assert ref not in shown


def test_secret_ref_type_accepts_both_forms(tmp_path) -> None:
    assert _Holder(ref="env:NAME_1").ref == "env:NAME_1"
    assert _Holder(ref=f"file:{tmp_path}/x").ref == f"file:{tmp_path}/x"


def test_secret_ref_type_rejects_a_pasted_secret_without_echoing_it() -> None:
    with pytest.raises(ValidationError, match="expected env:NAME or file:/absolute/path") as info:
        _Holder(ref=SECRET)
    assert SECRET not in str(info.value)
