"""The connector contract: a typed config, a connection check, and a checkpointed crawl."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel

from connectors.models import Checkpoint, CrawlItem, SyncMode


class CheckResult(BaseModel):
    """Outcome of ``Connector.check``: ``ok`` plus what a user should do when it is not."""

    ok: bool
    message: str
    details: dict[str, Any] = {}


class CrawlLimits(BaseModel):
    """Limits the pipeline asks the connector to respect while reading content."""

    max_content_bytes: int = 20 * 1024 * 1024


@runtime_checkable
class Connector(Protocol):
    """A source of documents. Implementations know their source and nothing of the index.

    ``crawl`` yields documents, deletions, group memberships and failures, and yields a
    ``Checkpoint`` whenever everything before it may be considered done. In FULL and
    FORCED_FULL mode the last checkpoint has ``complete=True`` only if the enumeration
    covered the whole source, which is what allows the engine to delete missing documents.
    """

    type_name: ClassVar[str]
    config_model: ClassVar[type[BaseModel]]

    def check(self) -> CheckResult: ...

    def crawl(
        self, mode: SyncMode, checkpoint: Checkpoint | None, limits: CrawlLimits
    ) -> Iterator[CrawlItem]: ...
