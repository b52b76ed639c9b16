"""Authentication as Alfresco does it: HTTP Basic, or a ticket in Basic or ``alf_ticket``.

A ticket travels as ``Authorization: Basic base64(ticket)`` (no user part), per
alfresco-auth.yaml, or as the ``alf_ticket`` query parameter. Tickets expire after
``ttl_s`` (tests can expire them all at once); a disabled account is refused either way.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
import time
from collections.abc import Callable

from devtools.alfresco_sim.http_types import ApiError, ApiRequest
from devtools.alfresco_sim.repository import Repository

CHALLENGE = {"WWW-Authenticate": 'Basic realm="Alfresco Server"'}


class TicketStore:
    """Issued tickets and their expiry; thread-safe."""

    def __init__(self, ttl_s: float = 3600.0, clock: Callable[[], float] = time.monotonic):
        self.ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._tickets: dict[str, tuple[str, float]] = {}

    def issue(self, user_id: str) -> str:
        ticket = "TICKET_" + secrets.token_hex(20)
        with self._lock:
            self._tickets[ticket] = (user_id, self._clock() + self.ttl_s)
        return ticket

    def user_for(self, ticket: str) -> str | None:
        with self._lock:
            found = self._tickets.get(ticket)
            if found is None:
                return None
            if found[1] <= self._clock():
                del self._tickets[ticket]
                return None
            return found[0]

    def revoke(self, ticket: str) -> bool:
        with self._lock:
            return self._tickets.pop(ticket, None) is not None

    def expire_all(self) -> int:
        """Invalidate every ticket (clients must log in again on their next 401)."""
        with self._lock:
            count = len(self._tickets)
            self._tickets.clear()
            return count


def _unauthorized() -> ApiError:
    return ApiError(401, "Authentication failed", headers=CHALLENGE)


def _decode_basic(header: str) -> str:
    try:
        return base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise _unauthorized() from exc


def authenticate(request: ApiRequest, repository: Repository, tickets: TicketStore) -> None:
    """Set ``request.user`` (and ``request.ticket``) or raise 401."""
    ticket = request.arg("alf_ticket")
    header = request.header("Authorization") or ""
    if ticket is None and header[:6].lower() == "basic ":
        decoded = _decode_basic(header)
        user_id, colon, password = decoded.partition(":")
        if not colon:
            ticket = decoded
        elif user_id in ("", "ROLE_TICKET") and password.startswith("TICKET_"):
            ticket = password
        elif repository.check_password(user_id, password):
            request.user = user_id
            return
        else:
            raise _unauthorized()
    if ticket is None:
        raise _unauthorized()
    owner = tickets.user_for(ticket)
    person = None if owner is None else repository.people.get(owner)
    if owner is None or person is None or not person.enabled:
        raise _unauthorized()
    request.user = owner
    request.ticket = ticket
