"""``AlfrescoConfig``: Kendra's AlfrescoConfiguration in snake_case, validated up front.

Validation happens before a sync is scheduled, so mistakes a user can fix in the form (a bad
regex, a site id with a slash, a URL without a scheme) never reach the worker. The secret
itself is read only at sync time, through ``secret_ref``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from acl.secrets import SecretRef
from connectors.pathfilter import validate_patterns


class Entity(StrEnum):
    """The Share components Quarry crawls; the other site containers are never read."""

    DOCUMENT_LIBRARY = "documentLibrary"
    WIKI = "wiki"
    BLOG = "blog"


class AuthMode(StrEnum):
    BASIC = "basic"
    TICKET = "ticket"


class FieldType(StrEnum):
    STRING = "string"
    STRING_LIST = "string_list"
    LONG = "long"
    DATE = "date"


class FieldMapping(BaseModel):
    """Copies one Alfresco property into one index attribute, converted to ``type``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_-]*:[A-Za-z_][A-Za-z0-9_.-]*$")
    target: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=128)
    type: FieldType = FieldType.STRING

    @field_validator("target")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value.startswith("_"):
            raise ValueError(
                f"{value!r} starts with '_': such names are reserved for Quarry's own "
                "attributes (_created_at, _category, ...); choose a name starting with a letter"
            )
        return value


class FieldMappings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    document_library: list[FieldMapping] = Field(default_factory=list)
    wiki: list[FieldMapping] = Field(default_factory=list)
    blog: list[FieldMapping] = Field(default_factory=list)

    def for_entity(self, entity: Entity) -> list[FieldMapping]:
        return {
            Entity.DOCUMENT_LIBRARY: self.document_library,
            Entity.WIKI: self.wiki,
            Entity.BLOG: self.blog,
        }[entity]


class Part(StrEnum):
    """What a config field describes; faces and the crawl state read these, not name lists."""

    SCOPE = "scope"
    """Which documents exist or what they contain: a change makes the next pass full."""
    ACCESS = "access"
    """How to reach and authenticate to the server (set with the scope by Kendra's form)."""


def fields_of(*parts: Part) -> tuple[str, ...]:
    """``AlfrescoConfig``'s fields marked with one of ``parts``, in declaration order."""
    return tuple(
        name
        for name, info in AlfrescoConfig.model_fields.items()
        if any(isinstance(m, Part) and m in parts for m in info.metadata)
    )


class AlfrescoConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    site_url: Annotated[str, Part.SCOPE]
    """Root of the Alfresco server (``https://host:8443``); API and Share paths hang below it."""
    site_ids: Annotated[list[str], Part.SCOPE] = Field(min_length=1)
    secret_ref: Annotated[SecretRef, Part.ACCESS]
    """Where the JSON ``{"username", "password"}`` lives; read at sync time, never stored."""
    ssl_ca_cert: Annotated[str | None, Part.ACCESS] = None
    """PEM file of the CA that signed the server's certificate (private PKI)."""
    auth: AuthMode = AuthMode.BASIC
    entity_filter: Annotated[list[Entity], Part.SCOPE] = Field(
        default_factory=lambda: list(Entity), min_length=1, max_length=3
    )
    crawl_comments: Annotated[bool, Part.SCOPE] = False
    crawl_system_folders: Annotated[bool, Part.SCOPE] = False
    """Also crawl the repository's Shared files folder (outside every site)."""
    inclusion_patterns: Annotated[list[str], Part.SCOPE] = Field(default_factory=list)
    exclusion_patterns: Annotated[list[str], Part.SCOPE] = Field(default_factory=list)
    field_mappings: Annotated[FieldMappings, Part.SCOPE] = Field(default_factory=FieldMappings)
    page_size: int = Field(default=100, ge=1, le=1000)
    concurrency: int = Field(default=4, ge=1, le=32)
    """Requests to Alfresco at once: listings read ahead of the walk, and downloads. The
    crawl's output (checkpoints included) comes in the same order whatever the value."""
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    max_retries: int = Field(default=5, ge=0, le=20)
    backoff_seconds: float = Field(default=0.5, ge=0, le=60)
    """First retry delay; doubles per attempt (with jitter) up to ``max_backoff_seconds``."""
    max_backoff_seconds: float = Field(default=30.0, ge=0, le=600)
    checkpoint_every: int = Field(default=100, ge=1, le=100)
    """Documents between two checkpoints of a pass (at most 100: a kill replays at most that)."""
    change_overlap_seconds: int = Field(default=300, ge=0, le=86400)
    """Incremental passes look this far before the last sync, for the search index's lag."""
    case_insensitive_ids: bool = True
    """Match user and group ids of this source without regard to case, as Alfresco does."""

    @model_validator(mode="before")
    @classmethod
    def _accept_single_site(cls, data: Any) -> Any:
        if isinstance(data, dict) and "site_id" in data:
            data = dict(data)
            single = data.pop("site_id")
            if "site_ids" in data:
                raise ValueError("give either site_id or site_ids, not both")
            data["site_ids"] = [single]
        return data

    @field_validator("site_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        value = value.strip()
        if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in value):
            raise ValueError("must not contain whitespace, control characters or NUL")
        parts = urlsplit(value)
        if "@" in parts.netloc:
            # Credentials in the URL would be stored, shown by GET and copied into every
            # document's uri; they belong in the secret behind secret_ref.
            raise ValueError(
                "must not carry a user name or password (user:password@host); "
                "put credentials in the secret that secret_ref points to"
            )
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host name")
        try:
            _ = parts.port
        except ValueError:
            raise ValueError("has an invalid port") from None
        if parts.query or parts.fragment:
            raise ValueError("must not have a query string or fragment")
        return value.rstrip("/")

    @field_validator("site_ids")
    @classmethod
    def _check_sites(cls, values: list[str]) -> list[str]:
        for value in values:
            if not value or not all(c.isascii() and (c.isalnum() or c == "-") for c in value):
                raise ValueError(f"site id {value!r} may contain only letters, digits and '-'")
        if len(set(values)) != len(values):
            raise ValueError("site ids must be unique")
        return values

    @field_validator("entity_filter")
    @classmethod
    def _unique_entities(cls, values: list[Entity]) -> list[Entity]:
        return list(dict.fromkeys(values))

    _check_patterns = field_validator("inclusion_patterns", "exclusion_patterns")(validate_patterns)

    @model_validator(mode="after")
    def _check_backoff(self) -> AlfrescoConfig:
        if self.max_backoff_seconds < self.backoff_seconds:
            raise ValueError("max_backoff_seconds must be at least backoff_seconds")
        return self
