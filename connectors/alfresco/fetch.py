"""Per-document downloads (content, then comments), run in the crawl's worker pool."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from connectors.alfresco.client import AlfrescoClient, ApiError
from connectors.alfresco.mapping import ItemError, comment_document, entry_of
from connectors.base import CrawlLimits
from connectors.models import CrawlItem, Document, Failure


@dataclass(frozen=True)
class Prepared:
    """A node to (re)index: its document without content, and its new signature."""

    node_id: str
    doc: Document
    sig: str
    has_content: bool = True


@dataclass(frozen=True)
class Fetched:
    prepared: Prepared
    items: list[CrawlItem]
    ok: bool
    gone: bool = False
    """The node was deleted after it was listed: forget it."""
    comments: dict[str, str] | None = None
    """The node's comments (id → modifiedAt), or None when they were not (all) read."""


class Fetcher:
    def __init__(
        self,
        client: AlfrescoClient,
        limits: CrawlLimits,
        crawl_comments: bool,
        doc_id: Callable[[str], str],
    ) -> None:
        self.client = client
        self.limits = limits
        self.crawl_comments = crawl_comments
        self.doc_id = doc_id

    def fetch(self, prepared: Prepared) -> Fetched:
        """Thread-safe: content (cut at the limit, true size kept), then comments."""
        doc = prepared.doc
        if not prepared.has_content:  # an empty node: index its metadata
            return self._done(prepared, doc)
        try:
            content = self.client.content(prepared.node_id, self.limits.max_content_bytes)
        except ApiError as exc:
            if exc.status == 404:  # deleted since it was listed
                return Fetched(prepared, [], ok=False, gone=True)
            return Fetched(prepared, [Failure(id=doc.id, reason=exc.message)], ok=False)
        length = doc.content_length if doc.content_length is not None else content.size
        doc = doc.model_copy(
            update={
                "content": content.data,
                "content_type": content.content_type or doc.content_type,
                "content_length": length,
            }
        )
        return self._done(prepared, doc)

    def _done(self, prepared: Prepared, doc: Document) -> Fetched:
        if not self.crawl_comments:
            return Fetched(prepared, [doc], ok=True)
        items, comments = self.comments(prepared.node_id, doc)
        # unread comments keep their old ACL in the index: retry the node next pass
        return Fetched(prepared, [doc, *items], ok=comments is not None, comments=comments)

    def comments(
        self, node_id: str, parent: Document
    ) -> tuple[list[CrawlItem], dict[str, str] | None]:
        """The node's comments as documents, found through the comments API (not by type)."""
        items: list[CrawlItem] = []
        seen: dict[str, str] = {}
        try:
            for page in self.client.pages(f"/nodes/{quote(node_id, safe='')}/comments"):
                for item in page:
                    entry = entry_of(item)
                    if entry is None:
                        items.append(Failure(id=parent.id, reason="malformed comment entry"))
                        return items, None
                    seen[entry["id"]] = str(entry.get("modifiedAt"))
                    try:
                        items.append(comment_document(entry, parent, self.doc_id(entry["id"])))
                    except ItemError as exc:
                        items.append(Failure(id=self.doc_id(entry["id"]), reason=str(exc)))
        except ApiError as exc:
            if exc.status == 404:
                return items, {}
            items.append(Failure(id=parent.id, reason=f"cannot read comments: {exc.message}"))
            return items, None
        return items, seen
