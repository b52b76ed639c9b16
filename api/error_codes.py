"""The one table from the core's stable error codes to what the faces answer.

The REST API answers ``status``; the Kendra face answers ``kendra_type`` (an AWS error type,
whose own status Kendra clients expect, see ``api/kendra/errors.py``). A code missing here is
an internal error on both faces: it is logged and answered without detail.
"""

from __future__ import annotations

from typing import NamedTuple


class CodeMapping(NamedTuple):
    status: int
    kendra_type: str


ERROR_CODES: dict[str, CodeMapping] = {
    # search.SearchError
    "bad_request": CodeMapping(400, "ValidationException"),
    "not_found": CodeMapping(404, "ResourceNotFoundException"),
    "conflict": CodeMapping(409, "ConflictException"),
    "backend_unavailable": CodeMapping(503, "InternalServerException"),
    # The index's vectors are of another embedding space: an operator must reindex.
    "reindex_required": CodeMapping(503, "InternalServerException"),
    # acl.AclError: a refused token is the caller's; unusable secrets or keys are the deployment's.
    "invalid_token": CodeMapping(401, "AccessDeniedException"),
    "secret_unavailable": CodeMapping(503, "InternalServerException"),
    "token_config_invalid": CodeMapping(503, "InternalServerException"),
    "acl_error": CodeMapping(503, "InternalServerException"),
}

STATUS_BY_CODE: dict[str, int] = {code: m.status for code, m in ERROR_CODES.items()}
"""The REST status for each stable code."""
