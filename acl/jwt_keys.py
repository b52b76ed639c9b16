"""JWT verification keys, loaded once from a ``JwtTokenConfig`` and checked against it.

Loading fails fast with ``TokenConfigError``/``SecretError`` so that a broken deployment is
found at start-up rather than as a stream of rejected searches. Messages never include key
material: pyjwt's own key errors can quote whole JWKs, so they are not passed on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt import PyJWK
from jwt.exceptions import PyJWTError

from acl.errors import InvalidTokenError, TokenConfigError
from acl.secrets import read_secret
from acl.token_config import JwtTokenConfig

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey
VerificationKey = bytes | PublicKey | PyJWK

_HMAC_MIN_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}
"""RFC 7518 §3.2: an HMAC key at least as long as the hash output."""
_RSA_MIN_BITS = 2048
_EC_CURVES = {"ES256": "secp256r1", "ES384": "secp384r1"}
_JWK_CURVES = {"ES256": "P-256", "ES384": "P-384"}
_PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "k"})


@dataclass(frozen=True)
class _Jwk:
    kid: str | None
    algorithm: str
    key: PyJWK


class JwtKeys:
    """The keys that one JWT configuration verifies with."""

    def __init__(self, config: JwtTokenConfig) -> None:
        self._algorithms: tuple[str, ...] = config.algorithms
        self._single: bytes | PublicKey | None = None
        self._jwks: list[_Jwk] = []
        if config.shared_secret_ref is not None:
            self._single = _load_hmac_secret(config.shared_secret_ref, config.algorithms)
        elif config.public_key_ref is not None:
            self._single = _load_public_key(config.public_key_ref, config.algorithms)
        elif config.jwks_file is not None:
            self._jwks = _load_jwks(config.jwks_file, config.algorithms)

    def select(self, alg: str, kid: str | None) -> tuple[VerificationKey, list[str]]:
        """The key for a token whose header names an allowed ``alg``, and the algorithms to pass
        to pyjwt. A key-set key is bound to a single algorithm; ``kid`` picks it when present."""
        if self._single is not None:
            return self._single, list(self._algorithms)
        candidates = [k for k in self._jwks if k.algorithm == alg]
        if kid is not None:
            candidates = [k for k in candidates if k.kid == kid]
            if not candidates:
                raise InvalidTokenError(f"no configured key matches the token's kid for {alg}")
        elif len(candidates) > 1:
            raise InvalidTokenError("token has no kid and several configured keys could verify it")
        if not candidates:
            raise InvalidTokenError(f"no configured key verifies {alg}")
        return candidates[0].key, [alg]


def _load_hmac_secret(ref: str, algorithms: tuple[str, ...]) -> bytes:
    secret = read_secret(ref).encode("utf-8")
    needed = max(_HMAC_MIN_BYTES[a] for a in algorithms)
    if len(secret) < needed:
        raise TokenConfigError(
            f"shared secret {ref!r} is {len(secret)} bytes; {', '.join(algorithms)}"
            f" needs at least {needed}"
        )
    return secret


def _load_public_key(ref: str, algorithms: tuple[str, ...]) -> PublicKey:
    data = read_secret(ref).encode("utf-8")
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            loaded: object = x509.load_pem_x509_certificate(data).public_key()
        else:
            loaded = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise TokenConfigError(
            f"public key {ref!r} is not a PEM public key or certificate"
        ) from None
    return _check_fits(loaded, algorithms, f"public key {ref!r}")


def _check_fits(key: object, algorithms: tuple[str, ...], where: str) -> PublicKey:
    """Refuse a key that cannot serve every configured algorithm, or that is too weak."""
    if isinstance(key, rsa.RSAPublicKey):
        wrong = [a for a in algorithms if a[:2] not in ("RS", "PS")]
        if wrong:
            raise TokenConfigError(f"{where} is an RSA key and cannot verify {wrong}")
        if key.key_size < _RSA_MIN_BITS:
            raise TokenConfigError(
                f"{where} is a {key.key_size}-bit RSA key; at least {_RSA_MIN_BITS} bits needed"
            )
        return key
    if isinstance(key, ec.EllipticCurvePublicKey):
        wrong = [a for a in algorithms if _EC_CURVES.get(a) != key.curve.name]
        if wrong:
            raise TokenConfigError(f"{where} is an EC {key.curve.name} key; cannot verify {wrong}")
        return key
    raise TokenConfigError(f"{where} is neither an RSA nor an EC public key")


def _check_secret_length(key: object, alg: str, where: str) -> None:
    """The same strength rule as a plain shared secret: at least the hash's output size."""
    needed = _HMAC_MIN_BYTES[alg]
    size = len(key) if isinstance(key, bytes) else 0
    if size < needed:
        raise TokenConfigError(f"{where} is a {size}-byte secret; {alg} needs at least {needed}")


def _fits_jwk(jwk: dict[str, Any], alg: str) -> bool:
    if jwk.get("alg") not in (None, alg):
        return False
    if jwk.get("kty") == "oct":
        return alg in _HMAC_MIN_BYTES
    if jwk.get("kty") == "RSA":
        return alg[:2] in ("RS", "PS")
    if jwk.get("kty") == "EC":
        return jwk.get("crv") == _JWK_CURVES.get(alg)
    return False


def _load_jwks(path: Path, algorithms: tuple[str, ...]) -> list[_Jwk]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise TokenConfigError(f"jwks_file {str(path)!r} cannot be read: {reason}") from None
    except (ValueError, RecursionError):
        raise TokenConfigError(f"jwks_file {str(path)!r} is not a JSON document") from None
    members = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(members, list):
        raise TokenConfigError(f"jwks_file {str(path)!r} has no 'keys' list")
    keys: list[_Jwk] = []
    seen: set[tuple[str | None, str]] = set()
    for position, jwk in enumerate(members):
        where = f"jwks_file {str(path)!r} key #{position}"
        if not isinstance(jwk, dict):
            raise TokenConfigError(f"{where} is not a JSON object")
        # An ``oct`` key is a shared secret: accepted only where HMAC is configured (a JWKS
        # read from a secret, as Kendra's console writes for HS256), never in a public key set.
        hmac_algorithms = [a for a in algorithms if a in _HMAC_MIN_BYTES]
        secret_members = {"k"} if jwk.get("kty") == "oct" and hmac_algorithms else set()
        if (_PRIVATE_JWK_MEMBERS - secret_members) & jwk.keys():
            raise TokenConfigError(f"{where} holds private or secret key material")
        kid = jwk.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise TokenConfigError(f"{where} has a non-string kid")
        if jwk.get("use") == "enc":
            continue
        for alg in algorithms:
            if not _fits_jwk(jwk, alg):
                continue
            if (kid, alg) in seen:
                raise TokenConfigError(f"{where} repeats kid {kid!r} for {alg}")
            seen.add((kid, alg))
            try:
                pyjwk = PyJWK(jwk, algorithm=alg)
            except PyJWTError:
                raise TokenConfigError(f"{where} is not a valid {alg} public key") from None
            if jwk.get("kty") == "oct":
                _check_secret_length(pyjwk.key, alg, where)
            else:
                _check_fits(pyjwk.key, (alg,), where)
            keys.append(_Jwk(kid=kid, algorithm=alg, key=pyjwk))
    if not keys:
        raise TokenConfigError(
            f"jwks_file {str(path)!r} holds no signing key usable with {', '.join(algorithms)}"
        )
    return keys
