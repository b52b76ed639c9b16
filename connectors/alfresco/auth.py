"""Credentials and the ways a request proves who the crawler is.

``Authenticator`` is the seam: basic auth and Alfresco tickets today, an OAuth bearer token
(from an identity provider's client-credentials flow) later, without touching the client.
Credentials are read from ``secret_ref`` at sync time and live only in memory.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from acl.errors import SecretError
from acl.secrets import read_secret
from connectors.errors import SECRET_ERROR, ConnectorError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str = field(repr=False)


def load_credentials(secret_ref: str) -> Credentials:
    """Read ``{"username", "password"}`` from the secret; errors never echo its content."""
    try:
        raw = read_secret(secret_ref)
    except SecretError as exc:
        raise ConnectorError(SECRET_ERROR, exc.reason) from None
    try:
        data = json.loads(raw)
    except ValueError:
        data = None
    if not (
        isinstance(data, dict)
        and isinstance(data.get("username"), str)
        and isinstance(data.get("password"), str)
        and data["username"]
    ):
        raise ConnectorError(
            SECRET_ERROR,
            f"secret {secret_ref!r} must hold JSON with string fields username and password",
        )
    return Credentials(username=data["username"], password=data["password"])


def _basic(token: str) -> str:
    return "Basic " + base64.b64encode(token.encode("utf-8")).decode("ascii")


class Authenticator(Protocol):
    """Supplies the Authorization header; ``renew`` is called once after a 401."""

    def header(self) -> str: ...

    def renew(self, rejected: str) -> bool:
        """Get fresh credentials; False when retrying cannot help (the 401 is final)."""
        ...


class BasicAuthenticator:
    def __init__(self, credentials: Credentials) -> None:
        self._header = _basic(f"{credentials.username}:{credentials.password}")

    def header(self) -> str:
        return self._header

    def renew(self, rejected: str) -> bool:
        return False


class TicketAuthenticator:
    """Logs in once for a ticket and logs in again when the ticket is refused (expired).

    ``login`` posts the credentials and returns the ticket; it is the client's tickets call,
    injected so that this class holds no HTTP code. Renewal is serialised so that many
    threads seeing the same expired ticket trigger one login, not one each.
    """

    def __init__(self, credentials: Credentials, login: Callable[[Credentials], str]) -> None:
        self._credentials = credentials
        self._login = login
        self._lock = threading.Lock()
        self._value: str | None = None

    def header(self) -> str:
        with self._lock:
            if self._value is None:
                self._value = _basic(self._login(self._credentials))
            return self._value

    def renew(self, rejected: str) -> bool:
        with self._lock:
            if self._value == rejected:  # nobody renewed it since this request was sent
                logger.info("alfresco ticket refused, logging in again")
                self._value = _basic(self._login(self._credentials))
            return True
