"""Request and response bodies of the HTTP API that the search core does not already define.

Every request model forbids unknown fields, so a misspelt option is a 422 naming it rather
than a silently ignored setting.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from connectors.models import SyncMode
from search.query import QueryRequest, RetrieveRequest

_FORBID = ConfigDict(extra="forbid")
MAX_TOKEN_CHARS = 64 * 1024
MAX_QUERY_TEXT = 10_000
"""A hard ceiling for the model; the configured ``max_query_chars`` is checked in the route."""


class UserContext(BaseModel):
    """Who searches: a signed token, or (admin key only) a user id and groups to test as."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    token: str | None = Field(default=None, max_length=MAX_TOKEN_CHARS)
    user_id: str | None = Field(default=None, min_length=1, max_length=512)
    groups: list[str] | None = Field(default=None, max_length=2048)

    @field_validator("user_id")
    @classmethod
    def _user(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be blank")
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> UserContext:
        if self.token is not None and self.user_id is not None:
            raise ValueError("give either token or user_id (test as user), not both")
        if self.groups is not None and self.user_id is None:
            raise ValueError("groups go with user_id; a token carries its own groups")
        return self


class QueryBody(QueryRequest):
    query_text: str = Field(min_length=1, max_length=MAX_QUERY_TEXT)
    user_context: UserContext | None = None


class RetrieveBody(RetrieveRequest):
    query_text: str = Field(min_length=1, max_length=MAX_QUERY_TEXT)
    user_context: UserContext | None = None


class SuggestBody(BaseModel):
    model_config = _FORBID

    query_text: str = Field(min_length=1, max_length=200, description="What the user typed so far.")
    max_suggestions: int = Field(default=5, ge=1, le=20)
    user_context: UserContext | None = None


class Suggestion(BaseModel):
    text: str
    source: str = Field(description="'title' (a readable document) or 'query' (asked before).")


class SuggestResponse(BaseModel):
    suggestions: list[Suggestion]


MAX_UTC_OFFSET = timedelta(hours=18)


class Click(BaseModel):
    model_config = _FORBID

    result_id: str = Field(min_length=1, max_length=1024)
    clicked_at: datetime = Field(description="ISO 8601; a UTC offset within ±18:00.")

    @field_validator("clicked_at")
    @classmethod
    def _offset(cls, value: datetime) -> datetime:
        offset = value.utcoffset()
        if offset is not None and abs(offset) > MAX_UTC_OFFSET:
            raise ValueError("the UTC offset must be between -18:00 and +18:00")
        return value


class Relevance(BaseModel):
    model_config = _FORBID

    result_id: str = Field(min_length=1, max_length=1024)
    relevant: bool


class FeedbackBody(BaseModel):
    model_config = _FORBID

    query_id: str = Field(min_length=1, max_length=64)
    clicks: list[Click] = Field(default_factory=list, max_length=100)
    relevance: list[Relevance] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _something(self) -> FeedbackBody:
        if not self.clicks and not self.relevance:
            raise ValueError("give at least one click or relevance item")
        return self


class FeedbackResponse(BaseModel):
    query_id: str
    stored: int


class SyncBody(BaseModel):
    model_config = _FORBID

    mode: SyncMode = SyncMode.FULL


class SyncStarted(BaseModel):
    job_id: str
    data_source_id: str
    status: str
    mode: SyncMode


class Deleted(BaseModel):
    id: str
    deleted_documents: int


class PrincipalMapping(BaseModel):
    """An administrator's group membership: for one data source's documents, or for all."""

    model_config = _FORBID

    data_source_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="Count only for this data source's documents; null: for every source "
        "(like the identity provider's token groups).",
    )
    users: list[str] = Field(default_factory=list, max_length=1000)
    groups: list[str] = Field(default_factory=list, max_length=1000)


class PrincipalMappingOut(PrincipalMapping):
    group: str


class IdentityTestBody(BaseModel):
    model_config = _FORBID

    user_id: str = Field(min_length=1, max_length=512)
    groups: list[str] = Field(default_factory=list, max_length=2048)


class SourceGroups(BaseModel):
    groups: list[str] = Field(description="Groups this data source's identity records add.")
    paths: dict[str, list[str]] = Field(
        description="For each of those groups, the chain of groups that leads to it."
    )


class IdentityTestResponse(BaseModel):
    user_id: str
    groups: list[str] = Field(description="Groups that count for every data source's documents.")
    paths: dict[str, list[str]] = Field(
        description="For each global group, the chain of groups that leads to it."
    )
    sources: dict[str, SourceGroups] = Field(
        default_factory=dict,
        description="Per data source, the groups that count only for its documents.",
    )


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, Any]
