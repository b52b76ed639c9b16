"""One error tree: every error Quarry raises on purpose is a QuarryError with a stable code that
both faces map from the same table."""

from __future__ import annotations

import pytest

from acl.errors import AclError, InvalidTokenError, SecretError, TokenConfigError
from api.error_codes import ERROR_CODES, STATUS_BY_CODE
from api.kendra.errors import STATUS as KENDRA_STATUS
from api.kendra.errors import translate
from connectors.errors import UNREACHABLE, ConnectorConfigError, ConnectorError
from quarry.errors import QuarryError
from search.errors import BackendUnavailable, BadRequest, Conflict, NotFound
from sync_engine.datasources import InvalidConfig


def test_every_package_root_is_a_quarry_error_and_keeps_its_attributes() -> None:
    acl = InvalidTokenError("expired")
    assert isinstance(acl, QuarryError) and acl.reason == acl.message == "expired"
    search = NotFound("no such data source")
    assert isinstance(search, QuarryError) and search.message == "no such data source"
    connector = ConnectorError(UNREACHABLE, "host down")
    assert isinstance(connector, QuarryError)
    assert (connector.code, connector.message, str(connector)) == (
        UNREACHABLE,
        "host down",
        "unreachable: host down",
    )
    config = ConnectorConfigError("bad config", [{"loc": "site", "msg": "missing"}])
    assert config.code == "invalid_config" and config.errors[0]["loc"] == "site"


@pytest.mark.parametrize(
    "error",
    [
        BadRequest("x"),
        NotFound("x"),
        Conflict("x"),
        BackendUnavailable("x"),
        InvalidConfig("x", []),
        InvalidTokenError("x"),
        SecretError("x"),
        TokenConfigError("x"),
        AclError("x"),
    ],
)
def test_errors_the_faces_answer_are_in_the_one_table(error: QuarryError) -> None:
    mapping = ERROR_CODES[error.code]
    assert STATUS_BY_CODE[error.code] == mapping.status
    assert mapping.kendra_type in KENDRA_STATUS
    assert translate(error).code == mapping.kendra_type


def test_kendra_answers_follow_the_table() -> None:
    assert translate(NotFound("gone")).status == 404
    assert translate(Conflict("busy")).code == "ConflictException"
    assert translate(InvalidTokenError("expired")).message == "the user token was refused: expired"
    refused = translate(SecretError("env:X is not set"))
    assert refused.code == "InternalServerException" and "env:X" not in refused.message
    assert translate(BackendUnavailable("Redis is unreachable")).message.endswith("; retry")
    # A code no table knows is an internal error without detail.
    assert translate(ConnectorError(UNREACHABLE, "10.0.0.7 refused")).message == "internal error"
