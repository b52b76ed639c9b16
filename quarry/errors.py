"""The root of Quarry's error tree.

Every error a Quarry package raises on purpose derives from ``QuarryError`` and carries a stable
``code`` (snake_case, never renamed). The faces map codes, not classes, to what they answer:
``api/error_codes.py`` holds the one code → HTTP status table the REST API and the Kendra face
share. Messages name fields, references and causes, never secret values or token contents.

The tree::

    QuarryError
    ├── acl.AclError            invalid_token, secret_unavailable, token_config_invalid
    ├── connectors.ConnectorError   auth_failed, unreachable, site_not_found, tls_error, ...
    │   └── ConnectorConfigError    invalid_config
    └── search.SearchError      bad_request, not_found, conflict, backend_unavailable
"""

from __future__ import annotations


class QuarryError(Exception):
    """Base of every error Quarry raises on purpose; ``code`` is stable, ``message`` is for users."""

    code: str = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
