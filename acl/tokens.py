"""User-context tokens to principals.

A missing token is the anonymous searcher. Any token that is present but cannot be trusted
raises ``InvalidTokenError`` and never degrades to anonymous: anonymous is not always the
narrower view (a group deny hides a document from members but not from anonymous searchers).
"""

from __future__ import annotations

import json
from typing import Any

import jwt
from jwt import exceptions as jwt_errors
from jwt.types import Options

from acl.errors import InvalidTokenError
from acl.jwt_keys import JwtKeys
from acl.models import Principal
from acl.token_config import JsonTokenConfig, JwtAlgorithm, JwtTokenConfig, TokenConfig

__all__ = [
    "MAX_TOKEN_GROUPS",
    "JsonTokenConfig",
    "JwtAlgorithm",
    "JwtTokenConfig",
    "TokenConfig",
    "TokenResolver",
    "resolve_token",
]

MAX_TOKEN_GROUPS = 2048
"""Kendra's limit on the groups one token may carry; beyond it the token is refused."""

_MISSING: Any = object()


class TokenResolver:
    """Resolves tokens under one configuration.

    Build it once per process: key material is read and checked here, so a broken deployment
    fails at start-up (``SecretError``/``TokenConfigError``) and requests only verify.
    """

    def __init__(self, config: TokenConfig) -> None:
        self._config = config
        self._jwt_keys = JwtKeys(config.jwt) if config.jwt is not None else None

    def resolve(self, token: str | None) -> Principal:
        """The principal a token stands for; ``None`` is anonymous, anything untrusted raises."""
        if token is None:
            return Principal.anonymous()
        text = token.strip()
        if not text:
            raise InvalidTokenError("token is empty")
        if text.startswith("{"):
            return self._resolve_json(text)
        if text.count(".") == 2:
            return self._resolve_jwt(text)
        raise InvalidTokenError("token is neither a JWT (header.payload.signature) nor JSON")

    def _resolve_json(self, text: str) -> Principal:
        config = self._config.json_token
        if config is None:
            raise InvalidTokenError("JSON user tokens are not enabled")
        if not config.trusted:
            raise InvalidTokenError(
                "JSON user tokens are unsigned and accepted only when json.trusted is set"
            )
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            raise InvalidTokenError("JSON token is not valid JSON") from None
        if not isinstance(data, dict):
            raise InvalidTokenError("JSON token must be an object")
        return _principal(data, "username", "groups")

    def _resolve_jwt(self, text: str) -> Principal:
        config, keys = self._config.jwt, self._jwt_keys
        if config is None or keys is None:
            raise InvalidTokenError("JWT user tokens are not enabled")
        try:
            header = jwt.get_unverified_header(text)
        except jwt_errors.PyJWTError as exc:
            raise InvalidTokenError(f"token is not a well-formed JWT: {exc}") from exc
        alg = header.get("alg")
        if not isinstance(alg, str) or not alg:
            raise InvalidTokenError("token header names no signature algorithm")
        if alg.lower() == "none":
            raise InvalidTokenError("unsigned tokens (alg none) are not accepted")
        if alg not in config.algorithms:
            raise InvalidTokenError(
                f"token algorithm {_shown(alg)} is not allowed (allowed:"
                f" {', '.join(config.algorithms)})"
            )
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise InvalidTokenError("token kid must be a string")
        key, algorithms = keys.select(alg, kid)
        options: Options = {
            "require": ["exp"] if config.require_exp else [],
            "enforce_minimum_key_length": True,
        }
        audience = list(config.audience) if isinstance(config.audience, tuple) else config.audience
        try:
            claims = jwt.decode(
                text,
                key=key,
                algorithms=algorithms,
                options=options,
                audience=audience,
                issuer=config.issuer,
                leeway=config.leeway_seconds,
            )
        except jwt_errors.PyJWTError as exc:
            raise InvalidTokenError(_jwt_reason(exc, config)) from exc
        return _principal(claims, config.user_claim, config.groups_claim)


def resolve_token(token: str | None, config: TokenConfig) -> Principal:
    """One-shot form of ``TokenResolver(config).resolve(token)``; reads key material each call."""
    if token is None:
        return Principal.anonymous()
    return TokenResolver(config).resolve(token)


def _jwt_reason(exc: jwt_errors.PyJWTError, config: JwtTokenConfig) -> str:
    """A reason a client can act on; subclasses are tested before their bases."""
    if isinstance(exc, jwt_errors.ExpiredSignatureError):
        return "token has expired"
    if isinstance(exc, jwt_errors.ImmatureSignatureError):
        return "token is not valid yet (nbf or iat lies in the future)"
    if isinstance(exc, jwt_errors.InvalidAudienceError):
        if config.audience is None:
            return "token names an audience but this deployment has none configured"
        return "token audience does not match this deployment"
    if isinstance(exc, jwt_errors.InvalidIssuerError):
        return "token issuer does not match the configured issuer"
    if isinstance(exc, jwt_errors.MissingRequiredClaimError):
        return f"token lacks the required {exc.claim!r} claim"
    if isinstance(exc, jwt_errors.InvalidSignatureError):
        return "token signature does not verify"
    if isinstance(exc, jwt_errors.InvalidAlgorithmError):
        return "token algorithm does not match the verification key"
    if isinstance(exc, jwt_errors.DecodeError):
        return f"token is malformed: {exc}"
    if isinstance(exc, jwt_errors.InvalidTokenError):
        return f"token is invalid: {exc}"
    return "token could not be verified with the configured key"


def _principal(claims: dict[str, Any], user_claim: str, groups_claim: str) -> Principal:
    """A user identity is mandatory: groups without a user would act as a widened anonymous."""
    user = _lookup(claims, user_claim)
    if user is _MISSING or user is None:
        raise InvalidTokenError(f"token has no {user_claim!r} claim; a user identity is required")
    if not isinstance(user, str) or not user.strip():
        raise InvalidTokenError(f"token claim {user_claim!r} must be a non-empty string")
    groups = _lookup(claims, groups_claim)
    if groups is _MISSING:
        return Principal(user=user)
    if not isinstance(groups, list):
        raise InvalidTokenError(f"token claim {groups_claim!r} must be a list of strings")
    if len(groups) > MAX_TOKEN_GROUPS:
        raise InvalidTokenError(
            f"token carries {len(groups)} groups; at most {MAX_TOKEN_GROUPS} are accepted"
        )
    if not all(isinstance(g, str) for g in groups):
        raise InvalidTokenError(f"token claim {groups_claim!r} must be a list of strings")
    return Principal(user=user, groups=frozenset(groups))


def _lookup(claims: dict[str, Any], path: str) -> Any:
    """A claim by exact name (URL-style names contain dots) or else by dotted path."""
    if path in claims:
        return claims[path]
    node: Any = claims
    for part in path.split("."):
        if not isinstance(node, dict):
            raise InvalidTokenError(f"token claim path {path!r} does not lead through objects")
        if part not in node:
            return _MISSING
        node = node[part]
    return node


def _shown(value: str) -> str:
    """Quote a value from the token for a message, bounded so it cannot flood logs."""
    return repr(value if len(value) <= 32 else value[:32] + "…")
