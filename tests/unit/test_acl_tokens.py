"""User-context tokens: what is trusted, what is refused, and why."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from pydantic import ValidationError

from acl import (
    MAX_TOKEN_GROUPS,
    AclError,
    InvalidTokenError,
    JsonTokenConfig,
    JwtTokenConfig,
    Principal,
    SecretError,
    TokenConfig,
    TokenConfigError,
    TokenResolver,
    resolve_token,
)

HS_SECRET = "x" * 64
HS_REF = "env:QUARRY_TEST_JWT_SECRET"


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(autouse=True)
def _hs_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUARRY_TEST_JWT_SECRET", HS_SECRET)


def pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def pem_ref(tmp_path: Path, data: bytes, name: str = "key.pem") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return f"file:{path}"


def claims(**changes: Any) -> dict[str, Any]:
    """Valid claims for alice; a change to ``None`` removes the claim."""
    base: dict[str, Any] = {"sub": "alice", "groups": ["eng", "staff"], "exp": time.time() + 300}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def hs_config(**changes: Any) -> TokenConfig:
    settings_: dict[str, Any] = {"algorithms": ["HS256"], "shared_secret_ref": HS_REF}
    settings_.update(changes)
    return TokenConfig(jwt=JwtTokenConfig(**settings_))


def hs_token(payload: dict[str, Any], **headers: Any) -> str:
    return jwt.encode(payload, HS_SECRET, algorithm="HS256", headers=headers or None)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"") -> str:
    return (
        f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}.{b64(signature)}"
    )


def rejects(token: str | None, config: TokenConfig, reason: str) -> InvalidTokenError:
    with pytest.raises(InvalidTokenError, match=reason) as info:
        resolve_token(token, config)
    return info.value


# --- basics -------------------------------------------------------------------------------


def test_no_token_is_anonymous() -> None:
    assert resolve_token(None, hs_config()) == Principal.anonymous()
    assert resolve_token(None, TokenConfig()).is_anonymous


def test_valid_hs256_token_gives_user_and_groups() -> None:
    principal = resolve_token(hs_token(claims()), hs_config())
    assert principal == Principal(user="alice", groups=frozenset({"eng", "staff"}))


def test_invalid_token_error_is_stable_for_callers() -> None:
    error = rejects("garbage", hs_config(), "neither a JWT")
    assert isinstance(error, AclError)
    assert error.code == "invalid_token"
    assert error.reason == str(error)


@pytest.mark.parametrize("token", ["", "   "])
def test_empty_token_is_refused_not_anonymous(token: str) -> None:
    rejects(token, hs_config(), "empty")


def test_tokens_are_refused_when_no_kind_is_enabled() -> None:
    rejects(hs_token(claims()), TokenConfig(), "JWT user tokens are not enabled")
    rejects('{"username": "alice"}', TokenConfig(), "JSON user tokens are not enabled")


def test_resolver_is_reusable_and_matches_the_one_shot_form() -> None:
    resolver = TokenResolver(hs_config())
    token = hs_token(claims(sub="bob", groups=["ops"]))
    assert resolver.resolve(token) == resolve_token(token, hs_config())
    assert resolver.resolve(None).is_anonymous


# --- time, issuer and audience ---------------------------------------------------------------


def test_expired_token_is_refused() -> None:
    rejects(hs_token(claims(exp=time.time() - 60)), hs_config(), "expired")


def test_leeway_tolerates_small_clock_skew() -> None:
    token = hs_token(claims(exp=time.time() - 10))
    assert resolve_token(token, hs_config(leeway_seconds=60)).user == "alice"
    rejects(token, hs_config(leeway_seconds=1), "expired")


def test_token_before_nbf_is_refused() -> None:
    rejects(hs_token(claims(nbf=time.time() + 600)), hs_config(), "not valid yet")


def test_token_without_exp_is_refused_unless_configured() -> None:
    token = hs_token(claims(exp=None))
    rejects(token, hs_config(), "'exp'")
    assert resolve_token(token, hs_config(require_exp=False)).user == "alice"


def test_issuer_must_match_when_configured() -> None:
    config = hs_config(issuer="https://idp.example")
    assert resolve_token(hs_token(claims(iss="https://idp.example")), config).user == "alice"
    rejects(hs_token(claims(iss="https://evil.example")), config, "issuer")
    rejects(hs_token(claims()), config, "'iss'")


def test_audience_must_match_when_configured() -> None:
    config = hs_config(audience=["quarry", "search"])
    assert resolve_token(hs_token(claims(aud="search")), config).user == "alice"
    assert resolve_token(hs_token(claims(aud=["other", "quarry"])), config).user == "alice"
    rejects(hs_token(claims(aud="billing")), config, "audience does not match")
    rejects(hs_token(claims()), config, "'aud'")


def test_token_for_some_audience_is_refused_when_none_is_configured() -> None:
    rejects(hs_token(claims(aud="billing")), hs_config(), "none configured")


# --- signatures and algorithms ---------------------------------------------------------------


def test_wrong_hmac_secret_is_refused() -> None:
    token = jwt.encode(claims(), "y" * 64, algorithm="HS256")
    rejects(token, hs_config(), "signature does not verify")


def test_tampered_payload_is_refused() -> None:
    header, _, signature = hs_token(claims()).split(".")
    evil = b64(json.dumps(claims(sub="admin")).encode())
    rejects(f"{header}.{evil}.{signature}", hs_config(), "signature does not verify")


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_unsigned_token_is_refused(alg: str) -> None:
    token = forge({"alg": alg, "typ": "JWT"}, claims())
    rejects(token, hs_config(), "alg none")


def test_token_without_alg_is_refused() -> None:
    rejects(forge({"typ": "JWT"}, claims(), b"sig"), hs_config(), "no signature algorithm")


def test_algorithm_outside_the_configured_list_is_refused() -> None:
    token = jwt.encode(claims(), HS_SECRET, algorithm="HS512")
    error = rejects(token, hs_config(), "'HS512' is not allowed")
    assert "HS256" in error.reason
    assert resolve_token(token, hs_config(algorithms=["HS256", "HS512"])).user == "alice"


def test_rs256_with_public_key(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    config = TokenConfig(
        jwt=JwtTokenConfig(algorithms=["RS256"], public_key_ref=pem_ref(tmp_path, pem(rsa_key)))
    )
    assert resolve_token(jwt.encode(claims(), rsa_key, algorithm="RS256"), config).user == "alice"


def test_ps256_and_rs384_share_one_rsa_key(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    ref = pem_ref(tmp_path, pem(rsa_key))
    config = TokenConfig(jwt=JwtTokenConfig(algorithms=["PS256", "RS384"], public_key_ref=ref))
    for alg in ("PS256", "RS384"):
        assert resolve_token(jwt.encode(claims(), rsa_key, algorithm=alg), config).user == "alice"
    rejects(jwt.encode(claims(), rsa_key, algorithm="RS256"), config, "'RS256' is not allowed")


def test_es256_with_public_key(tmp_path: Path, ec_key: ec.EllipticCurvePrivateKey) -> None:
    config = TokenConfig(
        jwt=JwtTokenConfig(algorithms=["ES256"], public_key_ref=pem_ref(tmp_path, pem(ec_key)))
    )
    assert resolve_token(jwt.encode(claims(), ec_key, algorithm="ES256"), config).user == "alice"


def test_public_key_from_a_certificate(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "idp.example")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(rsa_key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(rsa_key, hashes.SHA256())
    )
    ref = pem_ref(tmp_path, cert.public_bytes(serialization.Encoding.PEM))
    config = TokenConfig(jwt=JwtTokenConfig(algorithms=["RS256"], public_key_ref=ref))
    assert resolve_token(jwt.encode(claims(), rsa_key, algorithm="RS256"), config).user == "alice"


def test_token_signed_by_another_key_is_refused(
    tmp_path: Path, rsa_key: rsa.RSAPrivateKey, other_rsa_key: rsa.RSAPrivateKey
) -> None:
    config = TokenConfig(
        jwt=JwtTokenConfig(algorithms=["RS256"], public_key_ref=pem_ref(tmp_path, pem(rsa_key)))
    )
    token = jwt.encode(claims(), other_rsa_key, algorithm="RS256")
    rejects(token, config, "signature does not verify")


def test_algorithm_confusion_with_the_public_key_as_hmac_secret_is_refused(
    tmp_path: Path, rsa_key: rsa.RSAPrivateKey
) -> None:
    public_pem = pem(rsa_key)
    config = TokenConfig(
        jwt=JwtTokenConfig(algorithms=["RS256"], public_key_ref=pem_ref(tmp_path, public_pem))
    )
    header, payload = {"alg": "HS256", "typ": "JWT"}, claims(sub="admin", groups=["admins"])
    unsigned = forge(header, payload).rsplit(".", 1)[0]
    for secret in (public_pem, public_pem.strip()):
        mac = hmac.new(secret, unsigned.encode(), hashlib.sha256).digest()
        rejects(f"{unsigned}.{b64(mac)}", config, "'HS256' is not allowed")


def test_mixing_hmac_and_public_key_algorithms_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="cannot verify"):
        JwtTokenConfig(algorithms=["RS256", "HS256"], public_key_ref="env:PUBLIC_KEY")
    # A key set may hold oct (HS*) keys, as Kendra's console writes them, but not mixed in.
    with pytest.raises(ValidationError, match="not both"):
        JwtTokenConfig(algorithms=["HS256", "RS256"], jwks_file=tmp_path / "jwks.json")
    with pytest.raises(ValidationError, match="only HS"):
        JwtTokenConfig(algorithms=["HS256", "RS256"], shared_secret_ref=HS_REF)


@pytest.mark.parametrize("alg", ["none", "ES512", "EdDSA"])
def test_unsupported_algorithms_cannot_be_configured(alg: str) -> None:
    with pytest.raises(ValidationError):
        JwtTokenConfig(algorithms=[alg], shared_secret_ref=HS_REF)  # type: ignore[list-item]


def test_exactly_one_key_source(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="exactly one"):
        JwtTokenConfig(algorithms=["RS256"])
    with pytest.raises(ValidationError, match="exactly one"):
        JwtTokenConfig(
            algorithms=["RS256"], public_key_ref="env:K", jwks_file=tmp_path / "jwks.json"
        )


def test_config_errors_do_not_echo_a_secret_pasted_as_a_reference() -> None:
    with pytest.raises(ValidationError) as info:
        JwtTokenConfig(algorithms=["HS256"], shared_secret_ref=HS_SECRET)
    assert HS_SECRET not in str(info.value)


# --- key material problems are deployment errors, found at start-up -------------------------


def test_short_hmac_secret_is_refused_at_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUARRY_TEST_JWT_SECRET", "short-secret")
    with pytest.raises(TokenConfigError, match="needs at least 32") as info:
        TokenResolver(hs_config())
    assert "short-secret" not in str(info.value)
    assert info.value.code == "token_config_invalid"


def test_hs512_needs_a_longer_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUARRY_TEST_JWT_SECRET", "x" * 48)
    TokenResolver(hs_config(algorithms=["HS384"]))
    with pytest.raises(TokenConfigError, match="at least 64"):
        TokenResolver(hs_config(algorithms=["HS384", "HS512"]))


def test_missing_secret_is_a_secret_error_not_an_invalid_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("QUARRY_TEST_JWT_SECRET")
    with pytest.raises(SecretError, match=HS_REF):
        resolve_token(hs_token(claims()), hs_config())


def test_weak_rsa_key_is_refused(tmp_path: Path) -> None:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    ref = pem_ref(tmp_path, pem(weak))
    with pytest.raises(TokenConfigError, match="1024-bit"):
        TokenResolver(TokenConfig(jwt=JwtTokenConfig(algorithms=["RS256"], public_key_ref=ref)))


def test_key_type_must_fit_the_algorithms(
    tmp_path: Path, rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    ec_ref = pem_ref(tmp_path, pem(ec_key), "ec.pem")
    with pytest.raises(TokenConfigError, match="EC secp256r1 key"):
        TokenResolver(TokenConfig(jwt=JwtTokenConfig(algorithms=["RS256"], public_key_ref=ec_ref)))
    with pytest.raises(TokenConfigError, match="EC secp256r1 key"):
        TokenResolver(TokenConfig(jwt=JwtTokenConfig(algorithms=["ES384"], public_key_ref=ec_ref)))
    rsa_ref = pem_ref(tmp_path, pem(rsa_key), "rsa.pem")
    with pytest.raises(TokenConfigError, match="RSA key"):
        TokenResolver(TokenConfig(jwt=JwtTokenConfig(algorithms=["ES256"], public_key_ref=rsa_ref)))


def test_private_key_pem_is_not_accepted_as_public_key(
    tmp_path: Path, rsa_key: rsa.RSAPrivateKey
) -> None:
    private = rsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    ref = pem_ref(tmp_path, private)
    with pytest.raises(TokenConfigError, match="not a PEM public key") as info:
        TokenResolver(TokenConfig(jwt=JwtTokenConfig(algorithms=["RS256"], public_key_ref=ref)))
    assert "PRIVATE" not in str(info.value)


# --- JWKS files ------------------------------------------------------------------------------


def jwk(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, **members: Any) -> dict[str, Any]:
    if isinstance(key, rsa.RSAPrivateKey):
        data = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    else:
        data = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    data.update(members)
    return data


def jwks_config(tmp_path: Path, keys: list[dict[str, Any]], *algorithms: str) -> TokenConfig:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": keys}), encoding="utf-8")
    return TokenConfig(
        jwt=JwtTokenConfig(algorithms=list(algorithms or ["RS256"]), jwks_file=path)  # type: ignore[arg-type]
    )


def test_jwks_selects_the_key_by_kid(
    tmp_path: Path, rsa_key: rsa.RSAPrivateKey, other_rsa_key: rsa.RSAPrivateKey
) -> None:
    config = jwks_config(tmp_path, [jwk(rsa_key, kid="a"), jwk(other_rsa_key, kid="b")])
    for key, kid in ((rsa_key, "a"), (other_rsa_key, "b")):
        token = jwt.encode(claims(), key, algorithm="RS256", headers={"kid": kid})
        assert resolve_token(token, config).user == "alice"


def test_jwks_kid_naming_another_key_fails_verification(
    tmp_path: Path, rsa_key: rsa.RSAPrivateKey, other_rsa_key: rsa.RSAPrivateKey
) -> None:
    config = jwks_config(tmp_path, [jwk(rsa_key, kid="a"), jwk(other_rsa_key, kid="b")])
    token = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "b"})
    rejects(token, config, "signature does not verify")


def test_jwks_unknown_kid_is_refused(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    config = jwks_config(tmp_path, [jwk(rsa_key, kid="a")])
    token = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "rotated-away"})
    rejects(token, config, "no configured key matches the token's kid")


def test_jwks_non_string_kid_is_refused(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    config = jwks_config(tmp_path, [jwk(rsa_key, kid="a")])
    token = forge({"alg": "RS256", "kid": 7}, claims(), b"sig")
    rejects(token, config, "must be a string")


@pytest.mark.parametrize("token", ["a.b.c", "!!!.e30.", "e30.e30.e30", "W10.e30."])
def test_malformed_jwt_is_refused(token: str) -> None:
    rejects(token, hs_config(), "not a well-formed JWT|no signature algorithm")


def test_jwks_without_kid_needs_a_single_candidate(
    tmp_path: Path, rsa_key: rsa.RSAPrivateKey, other_rsa_key: rsa.RSAPrivateKey
) -> None:
    token = jwt.encode(claims(), rsa_key, algorithm="RS256")
    single = jwks_config(tmp_path, [jwk(rsa_key)])
    assert resolve_token(token, single).user == "alice"
    several = jwks_config(tmp_path, [jwk(rsa_key, kid="a"), jwk(other_rsa_key, kid="b")])
    rejects(token, several, "no kid and several")


def test_jwks_key_bound_to_an_algorithm_verifies_only_that_one(
    tmp_path: Path, rsa_key: rsa.RSAPrivateKey
) -> None:
    config = jwks_config(tmp_path, [jwk(rsa_key, kid="a", alg="RS256")], "RS256", "PS256")
    good = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "a"})
    assert resolve_token(good, config).user == "alice"
    other = jwt.encode(claims(), rsa_key, algorithm="PS256", headers={"kid": "a"})
    rejects(other, config, "no configured key matches")


def test_jwks_key_without_alg_serves_each_configured_algorithm(
    tmp_path: Path, rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    keys = [jwk(rsa_key, kid="r"), jwk(ec_key, kid="e")]
    config = jwks_config(tmp_path, keys, "PS256", "RS512", "ES256")
    for key, kid, alg in ((rsa_key, "r", "PS256"), (rsa_key, "r", "RS512"), (ec_key, "e", "ES256")):
        token = jwt.encode(claims(), key, algorithm=alg, headers={"kid": kid})
        assert resolve_token(token, config).user == "alice"


def test_jwks_file_problems_are_config_errors(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    path = tmp_path / "jwks.json"
    config = TokenConfig(jwt=JwtTokenConfig(algorithms=["RS256"], jwks_file=path))
    with pytest.raises(TokenConfigError, match="cannot be read"):
        TokenResolver(config)
    path.write_text("not json", encoding="utf-8")
    with pytest.raises(TokenConfigError, match="not a JSON document"):
        TokenResolver(config)
    path.write_text('{"keys": "nope"}', encoding="utf-8")
    with pytest.raises(TokenConfigError, match="no 'keys' list"):
        TokenResolver(config)
    path.write_text(json.dumps({"keys": [jwk(rsa_key, use="enc")]}), encoding="utf-8")
    with pytest.raises(TokenConfigError, match="no signing key usable"):
        TokenResolver(config)


def test_jwks_with_private_key_material_is_refused(
    tmp_path: Path, rsa_key: rsa.RSAPrivateKey
) -> None:
    private = RSAAlgorithm.to_jwk(rsa_key, as_dict=True)
    with pytest.raises(TokenConfigError, match="holds private or secret key material") as info:
        TokenResolver(jwks_config(tmp_path, [private]))
    assert private["d"] not in str(info.value)


def test_jwks_repeated_kid_is_refused(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(TokenConfigError, match="repeats kid"):
        TokenResolver(jwks_config(tmp_path, [jwk(rsa_key, kid="a"), jwk(rsa_key, kid="a")]))


# --- claims ----------------------------------------------------------------------------------


def test_missing_user_claim_is_refused_even_with_groups() -> None:
    rejects(hs_token(claims(sub=None)), hs_config(), "user identity is required")


@pytest.mark.parametrize("sub", ["", "   "])
def test_blank_user_is_refused(sub: str) -> None:
    rejects(hs_token(claims(sub=sub)), hs_config(), "non-empty string")


def test_non_string_user_is_refused() -> None:
    config = hs_config(user_claim="uid")
    rejects(hs_token(claims(uid=42)), config, "'uid' must be a non-empty string")


def test_custom_user_claim() -> None:
    token = hs_token(claims(preferred_username="alice@example.com"))
    principal = resolve_token(token, hs_config(user_claim="preferred_username"))
    assert principal.user == "alice@example.com"


def test_missing_groups_claim_means_no_groups() -> None:
    principal = resolve_token(hs_token(claims(groups=None)), hs_config())
    assert principal == Principal(user="alice")


def test_groups_from_a_dotted_path() -> None:
    token = hs_token(claims(groups=None, realm_access={"roles": ["admin", "user"]}))
    principal = resolve_token(token, hs_config(groups_claim="realm_access.roles"))
    assert principal.groups == {"admin", "user"}
    no_roles = hs_token(claims(groups=None, realm_access={}))
    assert resolve_token(no_roles, hs_config(groups_claim="realm_access.roles")).groups == set()


def test_exact_claim_name_with_dots_wins_over_the_path() -> None:
    name = "https://quarry.example/groups"
    token = hs_token(claims(groups=None, **{name: ["from-namespaced-claim"]}))
    assert resolve_token(token, hs_config(groups_claim=name)).groups == {"from-namespaced-claim"}


@pytest.mark.parametrize("groups", ["eng", ["eng", 5], [["nested"]], {"eng": True}])
def test_groups_must_be_a_list_of_strings(groups: Any) -> None:
    rejects(hs_token(claims(groups=groups)), hs_config(), "must be a list of strings")


def test_explicit_null_groups_is_refused() -> None:
    token = jwt.encode({**claims(), "groups": None}, HS_SECRET, algorithm="HS256")
    rejects(token, hs_config(), "must be a list of strings")


def test_dotted_path_through_a_non_object_is_refused() -> None:
    token = hs_token(claims(realm_access="admin"))
    rejects(token, hs_config(groups_claim="realm_access.roles"), "does not lead through objects")


def test_group_limit() -> None:
    at_limit = [f"g{i}" for i in range(MAX_TOKEN_GROUPS)]
    assert len(resolve_token(hs_token(claims(groups=at_limit)), hs_config()).groups) == 2048
    over = [*at_limit, "one-too-many"]
    rejects(hs_token(claims(groups=over)), hs_config(), "2049 groups; at most 2048")


@settings(max_examples=50, deadline=None)
@given(groups=st.lists(st.text(max_size=12), max_size=20))
def test_groups_round_trip_through_a_signed_token(groups: list[str]) -> None:
    principal = resolve_token(hs_token(claims(groups=groups)), hs_config())
    assert principal.groups == {g.strip() for g in groups if g.strip()}


# --- Kendra JSON tokens ---------------------------------------------------------------------


JSON_TOKEN = json.dumps({"username": "alice", "groups": ["eng"]})


def test_json_token_accepted_only_when_trusted() -> None:
    trusted = TokenConfig(json_token=JsonTokenConfig(trusted=True))
    assert resolve_token(JSON_TOKEN, trusted) == Principal(user="alice", groups=frozenset({"eng"}))
    rejects(JSON_TOKEN, TokenConfig(json_token=JsonTokenConfig()), "json.trusted")
    rejects(JSON_TOKEN, hs_config(), "JSON user tokens are not enabled")


def test_json_config_also_parses_from_deployment_files() -> None:
    config = TokenConfig.model_validate({"json": {"trusted": True}})
    assert resolve_token(JSON_TOKEN, config).user == "alice"


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ('{"groups": ["eng"]}', "user identity is required"),
        ('{"username": ""}', "non-empty string"),
        ('{"username": "alice", "groups": "eng"}', "list of strings"),
        ('{"username": "alice"', "not valid JSON"),
        ("[1, 2]", "neither a JWT"),
    ],
)
def test_malformed_json_tokens_are_refused(token: str, reason: str) -> None:
    rejects(token, TokenConfig(json_token=JsonTokenConfig(trusted=True)), reason)


def test_json_token_group_limit() -> None:
    token = json.dumps({"username": "alice", "groups": [str(i) for i in range(2049)]})
    rejects(token, TokenConfig(json_token=JsonTokenConfig(trusted=True)), "at most 2048")


def test_jwt_is_refused_when_only_json_is_enabled() -> None:
    config = TokenConfig(json_token=JsonTokenConfig(trusted=True))
    rejects(hs_token(claims()), config, "JWT user tokens are not enabled")


def test_both_kinds_can_be_enabled_together() -> None:
    config = TokenConfig(
        jwt=JwtTokenConfig(algorithms=["HS256"], shared_secret_ref=HS_REF),
        json_token=JsonTokenConfig(trusted=True),
    )
    assert resolve_token(JSON_TOKEN, config).user == "alice"
    assert resolve_token(hs_token(claims(sub="bob")), config).user == "bob"
