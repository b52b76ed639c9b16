"""AWS Signature Version 4, verified on the server by recomputing it with botocore's signer.

The client's ``Authorization`` header names the access key, the credential scope and the
headers it signed. The server rebuilds the canonical request from exactly those headers, the
path and the received body, signs it with the secret it holds for that key, and compares the
two signatures in constant time. The date must be within ``max_clock_skew_s`` of the server's
clock, which also bounds how long a captured request can be replayed (as on AWS).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

from api.kendra.errors import KendraError

ALGORITHM = "AWS4-HMAC-SHA256"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
REQUIRED_SIGNED = ("host", "x-amz-date", "x-amz-target")
"""Headers that must be signed: the target too, or a captured body could be replayed at
another operation."""

_AUTH = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+)\s*,\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+)\s*,\s*Signature=(?P<signature>[0-9a-f]{64})\s*$"
)


@dataclass(frozen=True)
class SignedRequest:
    """What the verifier needs of an HTTP request; header names are lower-case."""

    method: str
    path: str
    query: str
    headers: Sequence[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k == name]


@dataclass(frozen=True)
class Identity:
    access_key_id: str


def _fail(code: str, message: str) -> KendraError:
    return KendraError(code, message)


class _ReceivedHeadersSigner(SigV4Auth):
    """Signs exactly the headers the client said it signed, whatever their names."""

    def __init__(
        self, credentials: Credentials, service: str, region: str, signed: HTTPHeaders
    ) -> None:
        super().__init__(credentials, service, region)
        self._signed = signed

    def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
        return self._signed


class SigV4Verifier:
    """Verifies requests against keys whose secrets ``secret_for`` looks up (None: unknown)."""

    def __init__(
        self,
        secret_for: Callable[[str], str | None],
        region: str,
        service: str,
        max_skew_s: int,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._secret_for = secret_for
        self.region = region
        self.service = service
        self.max_skew = timedelta(seconds=max_skew_s)
        self.clock = clock
        """The server's clock; replaceable so tests can age a captured request."""

    def verify(self, request: SignedRequest) -> Identity:
        authorization = request.header("authorization")
        if not authorization:
            raise _fail("MissingAuthenticationTokenException", "Missing Authentication Token")
        match = _AUTH.match(authorization[0].strip())
        if match is None or len(authorization) != 1:
            raise _fail(
                "IncompleteSignatureException",
                "Authorization header must be 'AWS4-HMAC-SHA256 Credential=..., "
                "SignedHeaders=..., Signature=...'",
            )
        key_id, date, region, service, terminator = _credential(match["credential"])
        signed_names = match["signed"].split(";")
        stamp = self._check_date(request, date)
        if region != self.region or service != self.service or terminator != "aws4_request":
            raise _fail(
                "InvalidSignatureException",
                f"Credential should be scoped to a valid region and service: expected "
                f"'{self.region}/{self.service}/aws4_request', got "
                f"'{region}/{service}/{terminator}'",
            )
        missing = [h for h in REQUIRED_SIGNED if h not in signed_names]
        if missing:
            raise _fail("InvalidSignatureException", f"these headers must be signed: {missing}")
        secret = self._secret_for(key_id)
        if secret is None:
            raise _fail(
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            )
        expected = self._signature(request, signed_names, stamp, key_id, secret)
        if not hmac.compare_digest(expected, match["signature"]):
            raise _fail(
                "InvalidSignatureException",
                "The request signature we calculated does not match the signature you provided. "
                "Check your AWS Secret Access Key and signing method.",
            )
        return Identity(access_key_id=key_id)

    def _check_date(self, request: SignedRequest, scope_date: str) -> str:
        values = request.header("x-amz-date")
        if len(values) != 1:
            raise _fail("IncompleteSignatureException", "X-Amz-Date header is required (once)")
        try:
            when = datetime.strptime(values[0], DATE_FORMAT).replace(tzinfo=UTC)
        except ValueError:
            raise _fail(
                "IncompleteSignatureException", "X-Amz-Date must be YYYYMMDD'T'HHMMSS'Z'"
            ) from None
        if values[0][:8] != scope_date:
            raise _fail(
                "InvalidSignatureException", "credential scope date does not match X-Amz-Date"
            )
        now = self.clock()
        minutes = int(self.max_skew.total_seconds() // 60)
        if when < now - self.max_skew:
            raise _fail(
                "InvalidSignatureException",
                f"Signature expired: {values[0]} is now earlier than "
                f"{(now - self.max_skew).strftime(DATE_FORMAT)} "
                f"({now.strftime(DATE_FORMAT)} - {minutes} min.)",
            )
        if when > now + self.max_skew:
            raise _fail(
                "InvalidSignatureException",
                f"Signature not yet current: {values[0]} is still later than "
                f"{(now + self.max_skew).strftime(DATE_FORMAT)} "
                f"({now.strftime(DATE_FORMAT)} + {minutes} min.)",
            )
        return values[0]

    def _signature(
        self, request: SignedRequest, signed_names: list[str], stamp: str, key_id: str, secret: str
    ) -> str:
        signed = HTTPHeaders()
        for name in signed_names:
            values = request.header(name)
            if not values:
                raise _fail("InvalidSignatureException", f"signed header {name!r} is missing")
            for value in values:
                signed[name] = value
        body_hash = hashlib.sha256(request.body).hexdigest()
        declared = request.header("x-amz-content-sha256")
        if declared and declared[0] != body_hash:
            # botocore would trust the declared hash; the body must be what was signed.
            raise _fail("InvalidSignatureException", "x-amz-content-sha256 does not match the body")
        host = request.header("host")[0]
        url = f"http://{host}{request.path}" + (f"?{request.query}" if request.query else "")
        aws_request = AWSRequest(method=request.method, url=url, data=request.body)
        aws_request.context["timestamp"] = stamp
        signer = _ReceivedHeadersSigner(
            Credentials(key_id, secret), self.service, self.region, signed
        )
        canonical = signer.canonical_request(aws_request)
        result: str = signer.signature(signer.string_to_sign(aws_request, canonical), aws_request)
        return result


def _credential(credential: str) -> tuple[str, str, str, str, str]:
    parts = credential.split("/")
    if len(parts) != 5 or not all(parts):
        raise _fail(
            "IncompleteSignatureException",
            "Credential must be <key id>/<date>/<region>/<service>/aws4_request",
        )
    return parts[0], parts[1], parts[2], parts[3], parts[4]
