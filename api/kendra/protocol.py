"""The wire protocol: AWS JSON 1.1 over ``POST /`` with ``X-Amz-Target``, signed with SigV4.

Order of checks, as on AWS: signature first (nothing is parsed for an unauthenticated
caller), then the operation name, then the JSON body. Every failure, ours or the core's,
leaves as ``{"__type", "message"}`` with ``x-amzn-ErrorType``; ignored request members are
reported in the ``x-quarry-warnings`` header (and in ``Warnings`` where Kendra has it).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.kendra import curation, datasources, identity, indexes, search_ops, syncjobs
from api.kendra.context import KendraContext
from api.kendra.errors import KendraError, translate
from api.kendra.sigv4 import SignedRequest

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/x-amz-json-1.1"
TARGET_PREFIX = "AWSKendraFrontendService."
MAX_WARNINGS_HEADER = 4000
Operation = Callable[[KendraContext, dict[str, Any], list[str]], dict[str, Any]]

OPERATIONS: dict[str, Operation] = {
    "Query": search_ops.query,
    "Retrieve": search_ops.retrieve,
    "SubmitFeedback": search_ops.submit_feedback,
    "CreateIndex": indexes.create_index,
    "DescribeIndex": indexes.describe_index,
    "UpdateIndex": indexes.update_index,
    "ListIndices": indexes.list_indices,
    "DeleteIndex": indexes.delete_index,
    "CreateDataSource": datasources.create_data_source,
    "DescribeDataSource": datasources.describe_data_source,
    "ListDataSources": datasources.list_data_sources,
    "UpdateDataSource": datasources.update_data_source,
    "DeleteDataSource": datasources.delete_data_source,
    "StartDataSourceSyncJob": syncjobs.start_sync,
    "StopDataSourceSyncJob": syncjobs.stop_sync,
    "ListDataSourceSyncJobs": syncjobs.list_sync_jobs,
    "PutPrincipalMapping": identity.put_principal_mapping,
    "DescribePrincipalMapping": identity.describe_principal_mapping,
    "DeletePrincipalMapping": identity.delete_principal_mapping,
    "CreateFaq": curation.create_faq,
    "DescribeFaq": curation.describe_faq,
    "ListFaqs": curation.list_faqs,
    "DeleteFaq": curation.delete_faq,
    "CreateFeaturedResultsSet": curation.create_featured_results_set,
    "UpdateFeaturedResultsSet": curation.update_featured_results_set,
    "DescribeFeaturedResultsSet": curation.describe_featured_results_set,
    "ListFeaturedResultsSets": curation.list_featured_results_sets,
    "BatchDeleteFeaturedResultsSet": curation.batch_delete_featured_results_set,
}
QUERY_ONLY = frozenset({"Query", "Retrieve", "SubmitFeedback"})
WITH_WARNINGS = frozenset({"Query"})
"""Operations whose Kendra response has a ``Warnings`` member."""


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()  # JSON 1.1 timestamps are epoch seconds
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _headers(request_id: str, warnings: list[str]) -> dict[str, str]:
    headers = {"x-amzn-RequestId": request_id}
    if warnings:
        text = " | ".join(warnings).encode("ascii", "replace").decode("ascii")
        headers["x-quarry-warnings"] = text[:MAX_WARNINGS_HEADER]
    return headers


def error_response(error: KendraError, request_id: str) -> Response:
    body = json.dumps({"__type": error.code, "message": error.message}).encode("utf-8")
    headers = {"x-amzn-RequestId": request_id, "x-amzn-ErrorType": error.code}
    return Response(body, status_code=error.status, media_type=CONTENT_TYPE, headers=headers)


def _decode(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        raise KendraError("SerializationException", "the request body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise KendraError("SerializationException", "the request body must be a JSON object")
    return payload


def _operation(request: Request) -> str:
    target = request.headers.get("x-amz-target", "")
    name = target[len(TARGET_PREFIX) :] if target.startswith(TARGET_PREFIX) else ""
    if name not in OPERATIONS:
        shown = target[:100] or "(none)"
        raise KendraError(
            "UnknownOperationException",
            f"operation {shown} is not supported by Quarry's Kendra API",
        )
    return name


def _raw_path(request: Request) -> str:
    """The path exactly as received (percent-encoding intact): it is what the client signed."""
    raw = request.scope.get("raw_path") or request.url.path.encode("utf-8")
    return bytes(raw).decode("latin-1").split("?", 1)[0] or "/"


def _run(
    ctx: KendraContext, operation: str, payload: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    warnings: list[str] = []
    try:
        result = OPERATIONS[operation](ctx, payload, warnings)
    except Exception as exc:
        raise translate(exc) from exc
    if operation in WITH_WARNINGS and warnings:
        result["Warnings"] = [
            {"Code": "QUARRY_IGNORED_FIELD", "Message": w[:2048]} for w in warnings
        ]
    return result, warnings


async def endpoint(request: Request) -> Response:
    """Every Kendra operation arrives here."""
    request_id = str(uuid.uuid4())
    ctx: KendraContext = request.app.state.kendra
    body = await request.body()
    try:
        if not ctx.settings.access_keys:
            raise KendraError(
                "AccessDeniedException", "the Kendra API is disabled: set QUARRY_KENDRA_ACCESS_KEYS"
            )
        signed = SignedRequest(
            method=request.method,
            path=_raw_path(request),
            query=request.url.query,
            headers=[
                (k.decode("latin-1").lower(), v.decode("latin-1"))
                for k, v in request.scope["headers"]
            ],
            body=body,
        )
        caller = await run_in_threadpool(ctx.verifier.verify, signed)
        operation = _operation(request)
        if caller.access_key_id in ctx.settings.query_only_keys and operation not in QUERY_ONLY:
            raise KendraError("AccessDeniedException", f"this access key may not call {operation}")
        payload = _decode(body)
        result, warnings = await run_in_threadpool(_run, ctx, operation, payload)
    except Exception as exc:
        error = translate(exc)
        if error.status >= 500:
            log.error("Kendra API %s failed: %s", request_id, error.code)
        return error_response(error, request_id)
    log.info(
        "Kendra API call",
        extra={
            "operation": operation,
            "request_id": request_id,
            "access_key_id": caller.access_key_id,
        },
    )
    content = json.dumps(result, default=_json_default).encode("utf-8")
    return Response(content, media_type=CONTENT_TYPE, headers=_headers(request_id, warnings))
