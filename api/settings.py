"""Settings of the HTTP API, on top of the search core's ``Settings`` (same ``QUARRY_`` prefix).

Secrets are never values here: the admin key is stored as its SHA-256 hash, and JWT key
material is named by reference (``env:NAME`` / ``file:/path``), read once at start-up.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from acl import (
    JsonTokenConfig,
    JwtAlgorithm,
    JwtTokenConfig,
    Principal,
    SecretRef,
    TokenConfig,
    TokenResolver,
)
from acl.errors import InvalidTokenError
from search.settings import Settings

_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


class ApiSettings(Settings):
    """Environment variables ``QUARRY_*``; see each field for its variable's meaning."""

    model_config = SettingsConfigDict(
        env_prefix="QUARRY_", extra="ignore", hide_input_in_errors=True
    )

    admin_key_sha256: str | None = None
    """Hex SHA-256 of the admin bearer key; unset disables every admin endpoint (503)."""

    jwt_algorithms: list[JwtAlgorithm] | None = None
    """Accepted JWT algorithms; default HS256 with a shared secret, RS256 with a public key."""
    jwt_shared_secret_ref: SecretRef | None = None
    jwt_public_key_ref: SecretRef | None = None
    jwt_jwks_file: Path | None = None
    jwt_user_claim: str = "sub"
    jwt_groups_claim: str = "groups"
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_leeway_s: float = Field(default=0.0, ge=0, le=3600)
    json_tokens_trusted: bool = False
    """Accept unsigned JSON tokens ``{"username", "groups"}``: only behind a trusted gateway."""

    max_request_bytes: int = Field(default=1024 * 1024, ge=1024)
    cors_origins: list[str] = Field(default_factory=list)
    """Origins allowed to call the API from a browser; empty (the default) means CORS is off."""

    identity_cache_s: float = Field(default=30.0, ge=0, le=3600)
    """How long a user's resolved groups are reused; 0 resolves them on every request."""

    suggest_min_users: int = Field(default=1, ge=1)
    """A past query is suggested only once this many distinct users have asked it."""

    @field_validator("admin_key_sha256")
    @classmethod
    def _hex(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().lower()
        if not _SHA256_HEX.match(value):
            # Not echoed: a raw key pasted here is exactly what must not reach a log.
            raise ValueError("must be the 64-hex-digit SHA-256 of the admin key, not the key")
        return value

    def token_resolver(self) -> TokenResolver:
        """The resolver the API and CLI use: refusals name the ``QUARRY_JWT_*`` setting missing."""
        return DeploymentTokenResolver(self.token_config())

    def token_config(self) -> TokenConfig:
        """Which user-context tokens this deployment accepts (none configured: only anonymous)."""
        jwt: JwtTokenConfig | None = None
        if self.jwt_shared_secret_ref or self.jwt_public_key_ref or self.jwt_jwks_file:
            default: list[JwtAlgorithm] = ["HS256"] if self.jwt_shared_secret_ref else ["RS256"]
            jwt = JwtTokenConfig(
                algorithms=tuple(self.jwt_algorithms or default),
                shared_secret_ref=self.jwt_shared_secret_ref,
                public_key_ref=self.jwt_public_key_ref,
                jwks_file=self.jwt_jwks_file,
                user_claim=self.jwt_user_claim,
                groups_claim=self.jwt_groups_claim,
                issuer=self.jwt_issuer,
                audience=self.jwt_audience,
                leeway_seconds=self.jwt_leeway_s,
            )
        json_token = JsonTokenConfig(trusted=True) if self.json_tokens_trusted else None
        return TokenConfig(jwt=jwt, json_token=json_token)


JWT_KEY_SETTINGS = (
    "QUARRY_JWT_SHARED_SECRET_REF (HS256), QUARRY_JWT_PUBLIC_KEY_REF (RS256/ES256) "
    "or QUARRY_JWT_JWKS_FILE"
)


class DeploymentTokenResolver(TokenResolver):
    """A ``TokenResolver`` whose refusals of an unconfigured token type name the missing setting.

    The ``acl`` package knows token configurations, not environment variables; only this
    deployment layer can tell an operator which ``QUARRY_*`` setting turns a token type on.
    """

    def __init__(self, config: TokenConfig) -> None:
        super().__init__(config)
        self._jwt_on = config.jwt is not None
        self._json_on = config.json_token is not None

    def resolve(self, token: str | None) -> Principal:
        try:
            return super().resolve(token)
        except InvalidTokenError as exc:
            hint = self._missing_setting(token or "")
            if hint is None:
                raise
            raise InvalidTokenError(f"{exc.reason}; {hint}") from None

    def _missing_setting(self, token: str) -> str | None:
        text = token.strip()
        if text.startswith("{"):
            if self._json_on:
                return None
            return (
                "JSON tokens need QUARRY_JSON_TOKENS_TRUSTED=true (only behind a trusted gateway)"
            )
        if not self._jwt_on:
            return f"this deployment verifies no JWTs until one of {JWT_KEY_SETTINGS} is set"
        return None


def api_settings(settings: Settings | None) -> ApiSettings:
    """Lift core ``Settings`` to ``ApiSettings``: explicit values win, API fields come from env."""
    if isinstance(settings, ApiSettings):
        return settings
    if settings is None:
        return ApiSettings()
    return ApiSettings(**settings.model_dump(exclude_unset=False))
