"""Errors raised by the ``acl`` package.

Each class carries a stable ``code`` so callers (the HTTP layer, the CLI) can map it to a
status or an exit code without parsing messages. Messages name references, claims and
algorithms, never secret values or token contents.
"""

from __future__ import annotations

from quarry.errors import QuarryError


class AclError(QuarryError):
    """Base of every error the ``acl`` package raises on purpose; ``reason`` is its message."""

    code: str = "acl_error"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidTokenError(AclError):
    """The caller's user-context token cannot be trusted: reject the request (never anonymous)."""

    code = "invalid_token"


class SecretError(AclError):
    """A secret reference is malformed or cannot be read: a deployment problem, not the caller's."""

    code = "secret_unavailable"


class TokenConfigError(AclError):
    """Token configuration or its key material is unusable (wrong key type, weak key, bad JWKS)."""

    code = "token_config_invalid"
