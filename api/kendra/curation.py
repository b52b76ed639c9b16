"""Kendra's FAQ and featured results operations, over the core's FAQ and featured stores.

An FAQ file is read from a local path given as ``S3Path: {"Bucket": "file", "Key":
"/absolute/path"}`` (Quarry reads no S3), like the face's other S3 paths. FAQs and featured
results sets belong to the Kendra index named in the request; a query of that index answers
with them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from api.kendra import shapes
from api.kendra.context import KendraContext
from api.kendra.errors import pydantic_message, validation
from search.faq import Faq, FaqFormat, FaqSpec
from search.featured import FeaturedSet, FeaturedSetSpec, FeaturedStatus

MAX_FAQ_BYTES = 10_000_000
_FAQ_CREATE = (
    "IndexId",
    "Name",
    "Description",
    "S3Path",
    "FileFormat",
    "LanguageCode",
    "ClientToken",
)
_SET = (
    "IndexId",
    "FeaturedResultsSetId",
    "FeaturedResultsSetName",
    "Description",
    "ClientToken",
    "Status",
    "QueryTexts",
    "FeaturedDocuments",
)


def _faq_file(location: dict[str, Any] | None) -> str:
    bucket = (location or {}).get("Bucket")
    key = (location or {}).get("Key")
    if bucket != "file" or not isinstance(key, str) or not key.startswith("/"):
        raise validation(
            'S3Path: Quarry reads no S3; give {"Bucket": "file", "Key": "/absolute/faq.csv"}'
        )
    path = Path(key)
    if not path.is_file():
        raise validation(f"S3Path.Key: no file at {key}")
    if path.stat().st_size > MAX_FAQ_BYTES:
        raise validation(f"S3Path.Key: an FAQ file is at most {MAX_FAQ_BYTES} bytes")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise validation("S3Path.Key: the FAQ file is not UTF-8 text") from exc


def create_faq(ctx: KendraContext, body: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    index = ctx.index(body.get("IndexId"))
    shapes.ignore(body, _FAQ_CREATE, warnings)
    file_format = shapes.string(body, "FileFormat") or "CSV"
    if file_format not in FaqFormat.__members__:
        raise validation("FileFormat must be CSV, CSV_WITH_HEADER or JSON")
    try:
        spec = FaqSpec(
            name=shapes.required(body, "Name", 100),
            description=shapes.string(body, "Description", max_len=1000),
            file_format=FaqFormat(file_format),
            content=_faq_file(shapes.obj(body, "S3Path")),
            language_code=shapes.string(body, "LanguageCode", max_len=10) or "en",
        )
    except ValidationError as exc:
        raise validation(pydantic_message(exc)) from exc
    faq = ctx.svc.faqs.create(spec, index_id=index.id)
    return {"Id": faq.id}


def _faq_shape(faq: Faq) -> dict[str, Any]:
    return {
        "Id": faq.id,
        "IndexId": faq.index_id,
        "Name": faq.name,
        "Description": faq.description or "",
        "CreatedAt": faq.created_at,
        "UpdatedAt": faq.created_at,
        "Status": faq.status,
        "FileFormat": faq.file_format.value,
        "LanguageCode": faq.language_code,
    }


def describe_faq(ctx: KendraContext, body: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    index = ctx.index(body.get("IndexId"))
    return _faq_shape(ctx.svc.faqs.get(shapes.required(body, "Id", 100), index.id))


def list_faqs(ctx: KendraContext, body: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    index = ctx.index(body.get("IndexId"))
    summaries = []
    for faq in ctx.svc.faqs.list_all(index.id):
        shape = _faq_shape(faq)
        summaries.append(
            {
                k: shape[k]
                for k in (
                    "Id",
                    "Name",
                    "Status",
                    "CreatedAt",
                    "UpdatedAt",
                    "FileFormat",
                    "LanguageCode",
                )
            }
        )
    return {"FaqSummaryItems": summaries}


def delete_faq(ctx: KendraContext, body: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    index = ctx.index(body.get("IndexId"))
    ctx.svc.faqs.delete(shapes.required(body, "Id", 100), index.id)
    return {}


# ----- featured results sets
def _set_spec(body: dict[str, Any]) -> FeaturedSetSpec:
    status = shapes.string(body, "Status") or "ACTIVE"
    if status not in FeaturedStatus.__members__:
        raise validation("Status must be ACTIVE or INACTIVE")
    documents = [
        shapes.required(d, "Id", 2048, f"FeaturedDocuments[{i}].")
        for i, d in enumerate(shapes.objects(body, "FeaturedDocuments"))
    ]
    try:
        return FeaturedSetSpec(
            name=shapes.required(body, "FeaturedResultsSetName", 100),
            description=shapes.string(body, "Description", max_len=1000),
            status=FeaturedStatus(status),
            query_texts=shapes.strings(body, "QueryTexts") or [],
            document_ids=documents,
        )
    except ValidationError as exc:
        raise validation(pydantic_message(exc)) from exc


def _set_shape(item: FeaturedSet) -> dict[str, Any]:
    return {
        "FeaturedResultsSetId": item.id,
        "FeaturedResultsSetName": item.name,
        "Description": item.description or "",
        "Status": item.status.value,
        "QueryTexts": item.query_texts,
        "FeaturedDocuments": [{"Id": d} for d in item.document_ids],
        "LastUpdatedTimestamp": int(item.updated_at.timestamp() * 1000),
        "CreationTimestamp": int(item.created_at.timestamp() * 1000),
    }


def create_featured_results_set(
    ctx: KendraContext, body: dict[str, Any], warnings: list[str]
) -> dict[str, Any]:
    index = ctx.index(body.get("IndexId"))
    shapes.ignore(body, _SET, warnings)
    item = ctx.svc.featured.create(_set_spec(body), index_id=index.id)
    return {"FeaturedResultsSet": _set_shape(item)}


def update_featured_results_set(
    ctx: KendraContext, body: dict[str, Any], warnings: list[str]
) -> dict[str, Any]:
    index = ctx.index(body.get("IndexId"))
    shapes.ignore(body, _SET, warnings)
    set_id = shapes.required(body, "FeaturedResultsSetId", 100)
    old = ctx.svc.featured.get(set_id, index.id)
    merged = {
        "FeaturedResultsSetName": old.name,
        "Description": old.description,
        "Status": old.status.value,
        "QueryTexts": old.query_texts,
        "FeaturedDocuments": [{"Id": d} for d in old.document_ids],
        **{k: v for k, v in body.items() if v is not None},
    }
    item = ctx.svc.featured.update(set_id, _set_spec(merged), index.id)
    return {"FeaturedResultsSet": _set_shape(item)}


def describe_featured_results_set(
    ctx: KendraContext, body: dict[str, Any], warnings: list[str]
) -> dict[str, Any]:
    index = ctx.index(body.get("IndexId"))
    item = ctx.svc.featured.get(shapes.required(body, "FeaturedResultsSetId", 100), index.id)
    shape = _set_shape(item)
    documents = shape.pop("FeaturedDocuments")
    return {**shape, "FeaturedDocumentsWithMetadata": documents, "FeaturedDocumentsMissing": []}


def list_featured_results_sets(
    ctx: KendraContext, body: dict[str, Any], warnings: list[str]
) -> dict[str, Any]:
    index = ctx.index(body.get("IndexId"))
    keys = (
        "FeaturedResultsSetId",
        "FeaturedResultsSetName",
        "Status",
        "LastUpdatedTimestamp",
        "CreationTimestamp",
    )
    return {
        "FeaturedResultsSetSummaryItems": [
            {k: _set_shape(s)[k] for k in keys} for s in ctx.svc.featured.list_all(index.id)
        ]
    }


def batch_delete_featured_results_set(
    ctx: KendraContext, body: dict[str, Any], warnings: list[str]
) -> dict[str, Any]:
    index = ctx.index(body.get("IndexId"))
    errors = []
    for set_id in shapes.strings(body, "FeaturedResultsSetIds") or []:
        try:
            ctx.svc.featured.delete(set_id, index.id)
        except Exception as exc:  # reported per id, as Kendra does
            errors.append({"Id": set_id, "ErrorCode": "NOT_FOUND", "ErrorMessage": str(exc)})
    return {"Errors": errors}
