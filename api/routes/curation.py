"""Curated answers (admin key only): FAQ uploads, featured results sets, relevance tuning.

The stores in the core own the formats, the rules (one active set per query text, at most four
pinned documents) and the storage; these routes only translate HTTP to them.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, status

from api.auth import require_admin
from api.deps import Services, services
from search.faq import DEFAULT_INDEX, Faq, FaqSpec
from search.featured import FeaturedSet, FeaturedSetSpec
from search.relevance import RelevanceSettings, check_all

router = APIRouter(
    prefix="/v1",
    tags=["curation"],
    dependencies=[Depends(require_admin)],
    responses={
        401: {"description": "The admin key is missing or wrong."},
        404: {"description": "No such FAQ or featured results set."},
        503: {"description": "The admin API is disabled (no QUARRY_ADMIN_KEY_SHA256)."},
    },
)

_FAQ_ID = Path(min_length=1, max_length=64, description="The FAQ's id.")
_SET_ID = Path(min_length=1, max_length=64, description="The featured results set's id.")


@router.post(
    "/faqs",
    response_model=Faq,
    status_code=status.HTTP_201_CREATED,
    responses={400: {"description": "The FAQ file is malformed; the message names the line."}},
)
def create_faq(spec: FaqSpec, svc: Services = Depends(services)) -> Faq:
    """Upload an FAQ file (Kendra's CSV, CSV_WITH_HEADER or JSON format); its questions are
    answered on top of matching queries, to their audience only."""
    return svc.faqs.create(spec)


@router.get("/faqs", response_model=list[Faq])
def list_faqs(svc: Services = Depends(services)) -> list[Faq]:
    return svc.faqs.list_all()


@router.get("/faqs/{faq_id}", response_model=Faq)
def describe_faq(faq_id: str = _FAQ_ID, svc: Services = Depends(services)) -> Faq:
    return svc.faqs.get(faq_id)


@router.delete("/faqs/{faq_id}", response_model=Faq)
def delete_faq(faq_id: str = _FAQ_ID, svc: Services = Depends(services)) -> Faq:
    """Remove the FAQ and all its questions; returns what was removed."""
    return svc.faqs.delete(faq_id)


@router.post(
    "/featured-results",
    response_model=FeaturedSet,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "A query text or term belongs to another active set."}},
)
def create_featured(spec: FeaturedSetSpec, svc: Services = Depends(services)) -> FeaturedSet:
    """Pin up to four documents to query texts and terms; readers see them first."""
    return svc.featured.create(spec)


@router.get("/featured-results", response_model=list[FeaturedSet])
def list_featured(svc: Services = Depends(services)) -> list[FeaturedSet]:
    return svc.featured.list_all()


@router.get("/featured-results/{set_id}", response_model=FeaturedSet)
def describe_featured(set_id: str = _SET_ID, svc: Services = Depends(services)) -> FeaturedSet:
    return svc.featured.get(set_id)


@router.put(
    "/featured-results/{set_id}",
    response_model=FeaturedSet,
    responses={409: {"description": "A query text or term belongs to another active set."}},
)
def update_featured(
    spec: FeaturedSetSpec, set_id: str = _SET_ID, svc: Services = Depends(services)
) -> FeaturedSet:
    return svc.featured.update(set_id, spec)


@router.delete("/featured-results/{set_id}", response_model=FeaturedSet)
def delete_featured(set_id: str = _SET_ID, svc: Services = Depends(services)) -> FeaturedSet:
    return svc.featured.delete(set_id)


@router.get("/index/relevance", response_model=RelevanceSettings)
def get_relevance(svc: Services = Depends(services)) -> RelevanceSettings:
    """The index's relevance tuning: attributes' importance, rank order, freshness and value
    importance (empty when none is set)."""
    return svc.relevance.get(DEFAULT_INDEX)


@router.put(
    "/index/relevance",
    response_model=RelevanceSettings,
    responses={400: {"description": "A knob does not fit its attribute's type."}},
)
def put_relevance(
    settings: RelevanceSettings, svc: Services = Depends(services)
) -> RelevanceSettings:
    """Replace the index's relevance tuning; the next query uses it (no re-indexing).

    Boosts reorder documents only among those that hold a word of the query, or among those
    that hold none: tuning never lifts a document without the query's words above one with them.
    """
    check_all("attributes", settings.attributes, svc.runtime.engine.field_types())
    return svc.relevance.put(DEFAULT_INDEX, settings)


@router.delete("/index/relevance", status_code=status.HTTP_204_NO_CONTENT)
def delete_relevance(svc: Services = Depends(services)) -> None:
    """Remove all relevance tuning of the index."""
    svc.relevance.delete(DEFAULT_INDEX)
