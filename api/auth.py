"""Who is calling: the admin bearer key, and the searcher a request's user context stands for.

The admin key is compared as SHA-256 digests with ``hmac.compare_digest``, so neither its
length nor its prefix leaks through timing, and only the hash sits in the configuration.
A user-context token that is present but untrusted is a 401, never anonymous search.
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from acl import Principal
from api.deps import Services, services
from api.errors import ApiError
from api.models import UserContext

bearer = HTTPBearer(auto_error=False, description="The admin key (QUARRY_ADMIN_KEY_SHA256).")

ADMIN_DISABLED = "admin API disabled: set QUARRY_ADMIN_KEY_SHA256"
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="quarry-admin"'}


def key_matches(presented: str, expected_sha256: str) -> bool:
    digest = hashlib.sha256(presented.encode("utf-8")).hexdigest()
    return hmac.compare_digest(digest, expected_sha256)


def check_admin(svc: Services, credentials: HTTPAuthorizationCredentials | None) -> None:
    """Raise unless the request carries the admin key."""
    expected = svc.settings.admin_key_sha256
    if expected is None:
        raise ApiError(503, "admin_disabled", ADMIN_DISABLED)
    if credentials is None or not credentials.credentials:
        raise ApiError(
            401,
            "unauthorized",
            "the admin key is required (Authorization: Bearer <key>)",
            headers=_CHALLENGE,
        )
    if not key_matches(credentials.credentials, expected):
        raise ApiError(401, "unauthorized", "the admin key is not valid", headers=_CHALLENGE)


def require_admin(
    svc: Services = Depends(services),
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
) -> None:
    """Dependency of every admin route."""
    check_admin(svc, credentials)


class Caller:
    """A search request's credentials; admin is checked only when a feature needs it."""

    def __init__(self, svc: Services, credentials: HTTPAuthorizationCredentials | None) -> None:
        self.svc = svc
        self.credentials = credentials

    def require_admin(self, feature: str) -> None:
        try:
            check_admin(self.svc, self.credentials)
        except ApiError as exc:
            raise ApiError(
                exc.status,
                exc.code,
                f"{feature} needs the admin key: {exc.message}",
                headers=exc.headers,
            ) from None

    def principal(self, context: UserContext | None) -> Principal:
        """The searcher, resolved by the shared principal service (``search.principals``)."""
        if context is None or (context.token is None and context.user_id is None):
            return Principal.anonymous()
        if context.user_id is not None:
            # Like Kendra's console "test as user": an administrator impersonates a user.
            self.require_admin("user_context.user_id (test as user)")
            return self.svc.principals.for_user(context.user_id, context.groups or [])
        assert context.token is not None
        return self.svc.principals.from_token(context.token)


def caller(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
) -> Caller:
    return Caller(services(request), credentials)
