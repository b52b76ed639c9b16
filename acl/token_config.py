"""Deployment configuration for user-context tokens (which kinds are accepted, and how)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from acl.secrets import SecretRef

JwtAlgorithm = Literal[
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "PS256"
]
"""Signature algorithms Quarry verifies; ``none`` is deliberately not among them."""

HMAC_ALGORITHMS: frozenset[str] = frozenset({"HS256", "HS384", "HS512"})

_STRICT = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)


class JwtTokenConfig(BaseModel):
    """How to verify signed JWTs from an identity provider.

    Exactly one key source is set. Shared secrets go only with HS* and public keys only with
    RS*/ES*/PS*, so no key can ever be read under the other family's rules (the classic
    algorithm-confusion attack). A token carrying ``aud`` is rejected unless ``audience`` is
    configured, because a token minted for another service must not open this one.
    """

    model_config = _STRICT

    algorithms: tuple[JwtAlgorithm, ...] = Field(min_length=1)
    shared_secret_ref: SecretRef | None = None
    """HMAC secret for HS* algorithms."""
    public_key_ref: SecretRef | None = None
    """A PEM public key (or certificate) for RS*/ES*/PS* algorithms."""
    jwks_file: Path | None = None
    """A JSON Web Key Set file of public keys; the token's ``kid`` picks the key."""
    user_claim: str = Field(default="sub", min_length=1)
    groups_claim: str = Field(default="groups", min_length=1)
    """A claim name or a dotted path such as ``realm_access.roles``; an exact name wins."""
    issuer: str | None = None
    audience: str | tuple[str, ...] | None = None
    leeway_seconds: float = Field(default=0.0, ge=0, le=3600)
    require_exp: bool = True

    @field_validator("algorithms")
    @classmethod
    def _dedupe(cls, algorithms: tuple[JwtAlgorithm, ...]) -> tuple[JwtAlgorithm, ...]:
        return tuple(dict.fromkeys(algorithms))

    @model_validator(mode="after")
    def _one_key_source_matching_algorithms(self) -> JwtTokenConfig:
        sources = [
            name
            for name in ("shared_secret_ref", "public_key_ref", "jwks_file")
            if getattr(self, name) is not None
        ]
        if len(sources) != 1:
            raise ValueError(
                "set exactly one of shared_secret_ref, public_key_ref or jwks_file"
                f" (got {len(sources)})"
            )
        hmac = sorted(a for a in self.algorithms if a in HMAC_ALGORITHMS)
        public = sorted(a for a in self.algorithms if a not in HMAC_ALGORITHMS)
        if self.shared_secret_ref is not None and public:
            raise ValueError(f"shared_secret_ref verifies only HS* algorithms, not {public}")
        if self.jwks_file is not None and hmac and public:
            # A key set verifies either shared secrets (``oct`` keys) or public keys, never
            # both: mixing them invites algorithm confusion.
            raise ValueError(f"jwks_file verifies HS* or public-key algorithms, not both {hmac}")
        if self.shared_secret_ref is None and self.jwks_file is None and hmac:
            raise ValueError(f"{sources[0]} holds public keys; it cannot verify {hmac}")
        return self


class JsonTokenConfig(BaseModel):
    """Kendra-style JSON tokens ``{"username": ..., "groups": [...]}``.

    They carry no signature, so anyone could claim any identity: they are accepted only when
    ``trusted`` is set, for deployments where a trusted upstream (a gateway) builds them.
    """

    model_config = _STRICT

    trusted: bool = False


class TokenConfig(BaseModel):
    """Which kinds of user-context token are enabled; ``None`` disables a kind.

    The JSON kind is configured as ``json`` (Python attribute ``json_token``, because
    ``BaseModel.json`` is taken).
    """

    model_config = ConfigDict(
        frozen=True, extra="forbid", hide_input_in_errors=True, populate_by_name=True
    )

    jwt: JwtTokenConfig | None = None
    json_token: JsonTokenConfig | None = Field(default=None, alias="json")
