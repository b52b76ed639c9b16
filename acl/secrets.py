"""Secret references: configuration names where a secret lives, never the secret itself.

Two forms are understood: ``env:NAME`` (an environment variable) and ``file:/absolute/path``
(for mounted secrets such as ``/run/secrets/...``). Error messages name the reference and
never the value. A malformed reference is not echoed either, since it may be a secret pasted
into the wrong field.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator

from acl.errors import SecretError

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_FORMS = "env:NAME or file:/absolute/path"


def _parse(ref: str) -> tuple[str, str]:
    """Split a reference into (scheme, target), or raise ``ValueError`` without echoing it."""
    scheme, sep, target = ref.partition(":")
    if sep and scheme == "env" and _ENV_NAME.fullmatch(target):
        return scheme, target
    if sep and scheme == "file" and target and Path(target).is_absolute():
        return scheme, target
    raise ValueError(f"not a secret reference; expected {_FORMS}")


def _validate_ref(ref: str) -> str:
    _parse(ref)
    return ref


SecretRef = Annotated[str, AfterValidator(_validate_ref)]
"""A pydantic field type that accepts only ``env:NAME`` or ``file:/absolute/path``.

Models holding one should set ``hide_input_in_errors=True`` so that a secret pasted where a
reference belongs never appears in a validation error.
"""


def read_secret(ref: str) -> str:
    """Return the secret a reference points to.

    A trailing newline (as written by ``echo > file``) is dropped; an empty secret is an error
    because it always means a deployment mistake, and an empty key would fail open somewhere.
    """
    try:
        scheme, target = _parse(ref)
    except ValueError as exc:
        raise SecretError(f"secret reference is malformed: {exc}") from None
    if scheme == "env":
        value = os.environ.get(target)
        if value is None:
            raise SecretError(f"secret {ref!r} is unavailable: environment variable not set")
    else:
        try:
            value = Path(target).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise SecretError(f"secret {ref!r} is unavailable: file not found") from None
        except PermissionError:
            raise SecretError(f"secret {ref!r} is unavailable: permission denied") from None
        except UnicodeDecodeError:
            raise SecretError(f"secret {ref!r} is unreadable: not UTF-8 text") from None
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise SecretError(f"secret {ref!r} is unavailable: {reason}") from None
    value = value.rstrip("\r\n")
    if not value:
        raise SecretError(f"secret {ref!r} is empty")
    return value
