"""Kendra ``UserTokenConfigurations`` → Quarry's ``TokenConfig``, checked when the index is made.

``SecretManagerArn`` is read as a Quarry secret reference (``env:NAME``/``file:/path``); what
it holds decides the algorithms, as in Kendra: a JWKS document (``{"keys": [...]}``, file
references only), a PEM public key or certificate (RSA → RS*/PS256, EC → ES256/ES384 by
curve) or else an HS256 shared secret. ``KeyLocation: URL`` takes a ``file://`` JWKS only:
Quarry fetches no keys over the network. The resolver is built once here so a broken key
is a ``ValidationException`` on ``CreateIndex``, not an error on every query.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from acl import (
    AclError,
    JsonTokenConfig,
    JwtAlgorithm,
    JwtTokenConfig,
    TokenConfig,
    TokenResolver,
    read_secret,
)
from api.kendra.errors import validation

AUDIENCE_TAG = "quarry:jwt-audience"
"""A ``Tags`` entry of ``CreateIndex`` that names the JWT audience (Kendra has no field)."""
_RSA: tuple[JwtAlgorithm, ...] = ("RS256", "RS384", "RS512", "PS256")
_JWKS: tuple[JwtAlgorithm, ...] = (*_RSA, "ES256", "ES384")
_EC: dict[str, tuple[JwtAlgorithm, ...]] = {"secp256r1": ("ES256",), "secp384r1": ("ES384",)}
_PATH = "UserTokenConfigurations[0]"


def token_config(
    configurations: list[Any], json_trusted: bool, tags: dict[str, str], warnings: list[str]
) -> TokenConfig | None:
    """The token configuration an index's settings stand for, or None for no tokens."""
    if not configurations:
        return None
    if len(configurations) > 1:
        raise validation("UserTokenConfigurations: at most one configuration is supported")
    config = configurations[0]
    if not isinstance(config, dict):
        raise validation(f"{_PATH}: expected an object")
    jwt_part, json_part = (
        config.get("JwtTokenTypeConfiguration"),
        config.get("JsonTokenTypeConfiguration"),
    )
    if (jwt_part is None) == (json_part is None):
        raise validation(
            f"{_PATH}: set exactly one of JwtTokenTypeConfiguration and JsonTokenTypeConfiguration"
        )
    if json_part is not None:
        result = TokenConfig(json_token=_json(json_part, json_trusted))
    else:
        result = TokenConfig(jwt=_jwt(jwt_part, tags.get(AUDIENCE_TAG), warnings))
    try:
        TokenResolver(result)
    except AclError as exc:
        raise validation(f"{_PATH}: {exc.reason}") from None
    return result


def _json(part: Any, trusted: bool) -> JsonTokenConfig:
    where = f"{_PATH}.JsonTokenTypeConfiguration"
    if not isinstance(part, dict):
        raise validation(f"{where}: expected an object")
    if not trusted:
        raise validation(
            f"{where}: JSON user tokens are unsigned; this deployment does not accept them "
            "(set QUARRY_JSON_TOKENS_TRUSTED only behind a gateway that builds them)"
        )
    if (
        part.get("UserNameAttributeField") != "username"
        or part.get("GroupAttributeField") != "groups"
    ):
        raise validation(f"{where}: Quarry's JSON tokens use the fields 'username' and 'groups'")
    return JsonTokenConfig(trusted=True)


def _jwt(part: Any, audience: str | None, warnings: list[str]) -> JwtTokenConfig:
    where = f"{_PATH}.JwtTokenTypeConfiguration"
    if not isinstance(part, dict):
        raise validation(f"{where}: expected an object")
    if part.get("ClaimRegex"):
        warnings.append(f"{where}.ClaimRegex is not supported and was ignored")
    common: dict[str, Any] = {
        "user_claim": part.get("UserNameAttributeField") or "sub",
        "groups_claim": part.get("GroupAttributeField") or "groups",
        "issuer": part.get("Issuer") or None,
        "audience": audience,
    }
    location = part.get("KeyLocation")
    try:
        if location == "URL":
            return JwtTokenConfig(
                algorithms=_JWKS, jwks_file=_file_url(part.get("URL"), where), **common
            )
        if location == "SECRET_MANAGER":
            return _from_secret(part.get("SecretManagerArn"), where, common)
    except ValueError as exc:  # pydantic's, from a claim name or issuer it rejects
        raise validation(f"{where}: {exc}") from None
    raise validation(f"{where}.KeyLocation: must be URL or SECRET_MANAGER")


def _file_url(url: Any, where: str) -> Path:
    parts = urlsplit(url if isinstance(url, str) else "")
    if parts.scheme != "file" or not parts.path:
        raise validation(
            f"{where}.URL: Quarry fetches no keys over the network; give a "
            "file:///path/to/jwks.json URL, or use SECRET_MANAGER with a reference"
        )
    return Path(unquote(parts.path))


def _from_secret(ref: Any, where: str, common: dict[str, Any]) -> JwtTokenConfig:
    if not isinstance(ref, str) or not ref.startswith(("env:", "file:")):
        raise validation(
            f"{where}.SecretManagerArn: give a Quarry secret reference "
            "(env:NAME or file:/absolute/path), not an AWS ARN"
        )
    try:
        material = read_secret(ref)
    except AclError as exc:
        raise validation(f"{where}.SecretManagerArn: {exc.reason}") from None
    if material.lstrip().startswith("{"):
        try:
            is_jwks = isinstance(json.loads(material).get("keys"), list)
        except (ValueError, AttributeError, RecursionError):
            is_jwks = False
        if not is_jwks or not ref.startswith("file:"):
            raise validation(
                f"{where}.SecretManagerArn: a JSON secret must be a JWKS "
                '({"keys": [...]}) named by a file: reference'
            )
        # Kendra's console writes an HS256 key as a JWKS holding an ``oct`` key.
        keys = json.loads(material)["keys"]
        secret = [isinstance(k, dict) and k.get("kty") == "oct" for k in keys]
        if any(secret) and not all(secret):
            raise validation(
                f"{where}.SecretManagerArn: a JWKS holds either oct (HS256) keys or public "
                "keys, not both"
            )
        algorithms: tuple[JwtAlgorithm, ...] = ("HS256",) if any(secret) else _JWKS
        return JwtTokenConfig(algorithms=algorithms, jwks_file=Path(ref[len("file:") :]), **common)
    if "-----BEGIN" in material:
        return JwtTokenConfig(
            algorithms=_pem_algorithms(material, where), public_key_ref=ref, **common
        )
    return JwtTokenConfig(algorithms=("HS256",), shared_secret_ref=ref, **common)


def _pem_algorithms(material: str, where: str) -> tuple[JwtAlgorithm, ...]:
    data = material.encode("utf-8")
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            key: object = x509.load_pem_x509_certificate(data).public_key()
        else:
            key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        raise validation(f"{where}.SecretManagerArn: not a PEM public key or certificate") from None
    if isinstance(key, rsa.RSAPublicKey):
        return _RSA
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name in _EC:
        return _EC[key.curve.name]
    raise validation(f"{where}.SecretManagerArn: only RSA and P-256/P-384 EC keys are supported")
