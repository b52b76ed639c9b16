"""Reading Kendra request members: required/optional typed getters and ignored-field warnings.

Kendra requests are plain JSON objects with PascalCase members; these helpers give precise
``ValidationException`` messages (the member's path, never its value) and record a warning
for every member Quarry accepts but does not apply, so nothing is silently mis-applied.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from typing import Any

from api.kendra.errors import validation


def string(
    body: dict[str, Any],
    key: str,
    *,
    required: bool = False,
    max_len: int = 100_000,
    path: str = "",
) -> str | None:
    value = body.get(key)
    where = f"{path}{key}"
    if value is None:
        if required:
            raise validation(f"{where} is required")
        return None
    if not isinstance(value, str):
        raise validation(f"{where} must be a string")
    if required and not value:
        raise validation(f"{where} must not be empty")
    if len(value) > max_len:
        raise validation(f"{where} is longer than {max_len} characters")
    return value


def required(body: dict[str, Any], key: str, max_len: int = 100_000, path: str = "") -> str:
    found = string(body, key, required=True, max_len=max_len, path=path)
    assert found is not None
    return found


def integer(body: dict[str, Any], key: str, default: int, lo: int, hi: int) -> int:
    value = body.get(key)
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool):
        raise validation(f"{key} must be an integer")
    if not lo <= value <= hi:
        raise validation(f"{key} must be between {lo} and {hi}")
    return value


def boolean(body: dict[str, Any], key: str, default: bool, path: str = "") -> bool:
    value = body.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise validation(f"{path}{key} must be a boolean")
    return value


def objects(body: dict[str, Any], key: str, path: str = "") -> list[dict[str, Any]]:
    value = body.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise validation(f"{path}{key} must be a list of objects")
    return value


def strings(body: dict[str, Any], key: str, path: str = "") -> list[str] | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise validation(f"{path}{key} must be a list of strings")
    return value


def obj(body: dict[str, Any], key: str, path: str = "") -> dict[str, Any] | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise validation(f"{path}{key} must be an object")
    return value


def ignore(
    body: dict[str, Any],
    supported: Iterable[str],
    warnings: list[str],
    path: str = "",
    silent: Iterable[str] = (),
) -> None:
    """Warn about every member present that Quarry does not apply (``silent``: no warning)."""
    known = set(supported) | set(silent)
    for key in sorted(body):
        if key not in known and body[key] is not None:
            warnings.append(f"{path}{key} is not supported by Quarry and was ignored")


def page_token(token: str | None) -> int:
    """``NextToken`` → offset; tokens are opaque to clients, plain offsets here."""
    if token is None:
        return 0
    try:
        offset = int(base64.urlsafe_b64decode(token.encode("ascii")).decode("ascii"))
    except (ValueError, UnicodeError, binascii.Error):
        raise validation("NextToken is not valid") from None
    if offset < 0:
        raise validation("NextToken is not valid")
    return offset


def next_token(offset: int) -> str:
    return base64.urlsafe_b64encode(str(offset).encode("ascii")).decode("ascii")
