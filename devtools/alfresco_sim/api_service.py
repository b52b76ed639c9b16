"""Handlers for discovery and authentication tickets (the search handler is in ``search``)."""

from __future__ import annotations

from typing import Final

from devtools.alfresco_sim.http_types import ApiError, BytesResponse, Context, JsonResponse

VERSION: Final = {
    "major": "23",
    "minor": "2",
    "patch": "0",
    "hotfix": "0",
    "schema": 19200,
    "label": "rquarry-sim",
    "display": "23.2.0.0 (rquarry-sim) schema 19200",
}


def discovery(context: Context) -> JsonResponse:
    repository = {
        "id": context.repository.repository_id,
        "edition": "Community",
        "version": VERSION,
        "status": {
            "isReadOnly": False,
            "isAuditEnabled": True,
            "isQuickShareEnabled": True,
            "isThumbnailGenerationEnabled": True,
            "isDirectAccessUrlEnabled": False,
        },
        "modules": [],
    }
    return JsonResponse(200, {"entry": {"repository": repository}})


def create_ticket(context: Context) -> JsonResponse:
    body = context.request.json()
    if not isinstance(body, dict):
        raise ApiError(400, "Invalid ticket body")
    user_id, password = body.get("userId"), body.get("password")
    if not isinstance(user_id, str) or not user_id or not isinstance(password, str) or not password:
        raise ApiError(400, "Invalid argument: userId and password are required")
    if not context.repository.check_password(user_id, password):
        raise ApiError(403, "Login failed")
    ticket = context.tickets.issue(user_id)
    return JsonResponse(201, {"entry": {"id": ticket, "userId": user_id}})


def _current_ticket(context: Context) -> str:
    if context.request.ticket is None:
        raise ApiError(400, "Ticket base authentication required")
    return context.request.ticket


def validate_ticket(context: Context) -> JsonResponse:
    return JsonResponse(200, {"entry": {"id": _current_ticket(context)}})


def delete_ticket(context: Context) -> BytesResponse:
    context.tickets.revoke(_current_ticket(context))
    return BytesResponse(204, b"")
