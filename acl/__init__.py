"""Principals, access-control lists and user-context tokens. Knows nothing of HTTP or the index."""

from acl.errors import AclError, InvalidTokenError, SecretError, TokenConfigError
from acl.explain import Entry, Explanation, explain
from acl.identity import GLOBAL, MembershipEdges, MembershipGraph, Resolution, resolve
from acl.models import EVERYONE, AccessControlList, Principal, SourceScope
from acl.secrets import SecretRef, read_secret
from acl.tokens import (
    MAX_TOKEN_GROUPS,
    JsonTokenConfig,
    JwtAlgorithm,
    JwtTokenConfig,
    TokenConfig,
    TokenResolver,
    resolve_token,
)

__all__ = [
    "EVERYONE",
    "GLOBAL",
    "MAX_TOKEN_GROUPS",
    "AccessControlList",
    "AclError",
    "Entry",
    "Explanation",
    "InvalidTokenError",
    "JsonTokenConfig",
    "JwtAlgorithm",
    "JwtTokenConfig",
    "MembershipEdges",
    "MembershipGraph",
    "Principal",
    "Resolution",
    "SecretError",
    "SecretRef",
    "SourceScope",
    "TokenConfig",
    "TokenConfigError",
    "TokenResolver",
    "explain",
    "read_secret",
    "resolve",
    "resolve_token",
]
