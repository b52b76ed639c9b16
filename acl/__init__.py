"""Principals, access-control lists and user-context tokens. Knows nothing of HTTP or the index."""

from acl.errors import AclError, InvalidTokenError, SecretError, TokenConfigError
from acl.explain import Entry, Explanation, explain
from acl.identity import GroupResolver, MembershipGraph, expand_principal
from acl.models import EVERYONE, AccessControlList, Principal
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
    "MAX_TOKEN_GROUPS",
    "AccessControlList",
    "AclError",
    "Entry",
    "Explanation",
    "GroupResolver",
    "InvalidTokenError",
    "JsonTokenConfig",
    "JwtAlgorithm",
    "JwtTokenConfig",
    "MembershipGraph",
    "Principal",
    "SecretError",
    "SecretRef",
    "TokenConfig",
    "TokenConfigError",
    "TokenResolver",
    "expand_principal",
    "explain",
    "read_secret",
    "resolve_token",
]
