"""Errors a connector raises when a crawl cannot go on or a config cannot be used.

Per-item problems are not errors: they are yielded as ``Failure`` items. A ``ConnectorError``
means the source as a whole is unusable right now (bad credentials, unreachable host, missing
site), so the crawl stops before its final complete checkpoint and nothing gets deleted.
"""

from __future__ import annotations

from typing import Any

from quarry.errors import QuarryError

AUTH_FAILED = "auth_failed"
UNREACHABLE = "unreachable"
SITE_NOT_FOUND = "site_not_found"
TLS_ERROR = "tls_error"
SECRET_ERROR = "secret_error"
SOURCE_ERROR = "source_error"
INVALID_CONFIG = "invalid_config"
UNKNOWN_CONNECTOR = "unknown_connector"


class ConnectorError(QuarryError):
    """A systemic failure with a stable ``code`` (one of the constants above) and a message a
    user can act on."""

    code: str = SOURCE_ERROR

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class ConnectorConfigError(ConnectorError):
    """A connector config rejected by its pydantic model; ``errors`` name the field paths."""

    def __init__(self, message: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(INVALID_CONFIG, message)
        self.errors = errors
