"""What every Kendra operation shares: the API's services, the Kendra records, key lookup.

Built once per app by ``install``; operations receive it with the decoded request body and a
list to which they add a warning for every field they ignore.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from acl import SecretError, TokenConfig, TokenResolver, read_secret
from api.deps import Services
from api.kendra.errors import KendraError, not_found, validation
from api.kendra.settings import KendraSettings
from api.kendra.sigv4 import SigV4Verifier
from search.attribute_types import AttributeTypes
from search.records import RecordStore

log = logging.getLogger(__name__)

INDEX = "index"


class IndexRecord(BaseModel):
    """A Kendra index: a name and a user-context policy over Quarry's one document index."""

    id: str
    name: str
    description: str = ""
    edition: str = "ENTERPRISE_EDITION"
    role_arn: str = ""
    created_at: datetime
    updated_at: datetime
    user_context_policy: Literal["ATTRIBUTE_FILTER", "USER_TOKEN"] = "ATTRIBUTE_FILTER"
    user_token_configurations: list[dict[str, Any]] = Field(default_factory=list)
    token_config: dict[str, Any] | None = None
    client_token: str | None = None

    def tokens(self) -> TokenConfig | None:
        return None if self.token_config is None else TokenConfig.model_validate(self.token_config)


class KendraContext:
    def __init__(self, svc: Services, settings: KendraSettings) -> None:
        self.svc = svc
        self.settings = settings
        es = svc.runtime.es
        layout = svc.settings.index_settings("system")
        self.records = RecordStore(es, svc.settings.system_index("kendra"), layout)
        self.queries = RecordStore(es, svc.settings.system_index("kendra-queries"), layout)
        self.types = AttributeTypes(es, svc.settings.docs_alias)
        self.verifier = SigV4Verifier(
            self._secret_for, settings.region, settings.service, settings.max_clock_skew_s
        )
        self._resolvers: dict[tuple[str, datetime], TokenResolver] = {}
        self._lock = threading.Lock()

    def _secret_for(self, key_id: str) -> str | None:
        """Read at request time, so a rotated ``file:`` secret needs no restart."""
        ref = self.settings.access_keys.get(key_id)
        if ref is None:
            return None
        try:
            return read_secret(ref)
        except SecretError as exc:  # the reason names the reference, never the value
            log.error("Kendra access key %s: %s", key_id, exc.reason)
            raise KendraError(
                "InternalServerException", "the server's access keys are misconfigured"
            ) from None

    def index(self, index_id: Any) -> IndexRecord:
        """The Kendra index a request names, or ResourceNotFoundException."""
        if not isinstance(index_id, str) or not index_id:
            raise validation("IndexId (or Id) is required and must be a string")
        if len(index_id) != 36:
            # Kendra checks the id's form before looking it up: 36 characters, as a UUID.
            raise validation(f"IndexId (or Id) must be 36 characters, got {len(index_id)}")
        found = self.records.get(INDEX, index_id)
        if found is None:
            raise not_found(f"no index with IndexId {index_id!r}")
        return IndexRecord.model_validate(found)

    def resolver(self, index: IndexRecord) -> TokenResolver | None:
        """The index's token resolver, built once per index version (keys read once)."""
        config = index.tokens()
        if config is None:
            return None
        if config.json_token is not None and not self.svc.settings.json_tokens_trusted:
            # Trust in unsigned tokens is the deployment's, checked at each use: an index made
            # while it was set must not keep accepting them once it is withdrawn.
            config = config.model_copy(update={"json_token": None})
        key = (index.id, index.updated_at)
        with self._lock:
            found = self._resolvers.get(key)
            if found is None:
                self._resolvers = {k: v for k, v in self._resolvers.items() if k[0] != index.id}
                found = self._resolvers[key] = TokenResolver(config)
            return found
