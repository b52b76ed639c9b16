"""One pass over the configured sites: walk, changes, deletions, identities, checkpoint.

Every pass walks the roots' folder trees (one paged listing per folder with permissions, no
content), because that walk is the only thing that notices moves, permission changes on
folders (descendants keep their ``modifiedAt``) and nodes purged from the trashcan. Content
is downloaded only for nodes whose signature changed. An incremental pass then asks the
Search API what was modified since the last pass (new comments, and nodes created after
their folder was listed) and the trashcan what was deleted.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Generator, Iterable, Iterator
from concurrent.futures import Executor, Future, wait
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import chain, islice
from typing import Any
from urllib.parse import quote

from acl import AccessControlList
from connectors.alfresco.changes import search_hits, trashed_since
from connectors.alfresco.client import AlfrescoClient, ApiError
from connectors.alfresco.config import AlfrescoConfig
from connectors.alfresco.fetch import Fetched, Fetcher, Prepared
from connectors.alfresco.identity import crawl_groups
from connectors.alfresco.listing import Listing
from connectors.alfresco.mapping import ItemError, entry_of, node_acl, node_document, signature
from connectors.alfresco.pool import ordered_map
from connectors.alfresco.scope import (
    SHARED,
    SHARED_PREFIX,
    Root,
    ancestor_ids,
    is_document,
    is_walkable_folder,
)
from connectors.alfresco.state import RETRY, CrawlState, PassState, Pending
from connectors.base import CrawlLimits
from connectors.errors import SITE_NOT_FOUND, SOURCE_ERROR, ConnectorError
from connectors.models import CrawlItem, Deletion, Document, Failure
from connectors.pathfilter import PathFilter

logger = logging.getLogger(__name__)

LIST_INCLUDE = "properties,aspectNames,permissions"
NODE_INCLUDE = "path,properties,aspectNames,permissions"
_AHEAD_STEPS = 1000
"""Walk steps decided but not yet taken (bounds memory when most nodes are unchanged)."""


@dataclass(frozen=True)
class _Enter:
    folder: Pending


@dataclass(frozen=True)
class _Leave:
    """The folder on top of the stack is done; its subfolders are walked next, in order."""

    subfolders: list[Pending]


@dataclass(frozen=True)
class _Unchanged:
    node_id: str
    sig: str


@dataclass(frozen=True)
class _Bad:
    """A failure: of a node (retried next pass) or, with no node, of a listing's entry."""

    failure: Failure
    node_id: str | None = None


@dataclass(frozen=True)
class _ListingFailed:
    folder: Pending
    error: ApiError | ConnectorError


@dataclass(frozen=True)
class _Blocked:
    """Not a step: the planner waits for this listing's next page."""

    listing: Listing


_Step = _Enter | _Leave | _Unchanged | _Bad | _ListingFailed
"""What the walk does, in order, besides downloading a ``Prepared`` node."""


class AlfrescoCrawl:
    def __init__(
        self,
        config: AlfrescoConfig,
        client: AlfrescoClient,
        data_source_id: str,
        limits: CrawlLimits,
        state: CrawlState,
        pool: Executor,
    ) -> None:
        self.config = config
        self.client = client
        self.data_source_id = data_source_id
        self.limits = limits
        self.state = state
        self.pool = pool
        self.filter = PathFilter.from_patterns(config.inclusion_patterns, config.exclusion_patterns)
        self._window = config.concurrency * 2
        self._lookahead = config.concurrency * 4
        """Folders whose listing may be read ahead of the walk (``concurrency`` at a time)."""
        self.fetcher = Fetcher(client, limits, config.crawl_comments, self._id)
        self._trashed: set[str] = set()
        self._unsaved = 0

    def run(self, full: bool) -> Iterator[CrawlItem]:
        run = self.state.running
        if run is None:
            run = self.state.running = self._begin(full)
        logger.info(
            "alfresco pass",
            extra={"full": run.full, "resumed": bool(run.nodes), "roots": len(run.roots)},
        )
        yield from self._walk(run)
        if not run.full and run.since is not None:
            yield from self._changes(run, run.since)
        yield from self._finish(run)

    # -- start -----------------------------------------------------------------------------

    def _begin(self, full: bool) -> PassState:
        roots = self._roots()
        started = self.client.server_now()
        since = None
        if not full and self.state.last_sync is not None:
            since = self.state.last_sync - timedelta(seconds=self.config.change_overlap_seconds)
        stack = [
            Pending(root=index, folder_id=root.folder_id, rel=root.rel)
            for index, root in reversed(list(enumerate(roots)))
        ]
        return PassState(full=full, started=started, since=since, roots=roots, stack=stack)

    def _roots(self) -> list[Root]:
        roots: list[Root] = []
        sites = self.config.site_ids
        for site, containers in ordered_map(self.pool, self._containers, sites, self._window):
            if isinstance(containers, ApiError):
                raise self._site_error(site, containers)
            for entity in self.config.entity_filter:
                if entity.value in containers:  # Share creates containers on first use
                    roots.append(
                        Root(
                            folder_id=containers[entity.value],
                            rel=entity.value,
                            category=entity.value,
                            site=site,
                        )
                    )
        if self.config.crawl_system_folders:
            try:
                shared = entry_of(self.client.get_json("/nodes/-shared-"))
            except ApiError as exc:
                raise ConnectorError(
                    SOURCE_ERROR, f"cannot open the Shared folder: {exc.message}"
                ) from None
            if shared is None:
                raise ConnectorError(SOURCE_ERROR, "malformed answer for the Shared folder")
            roots.append(Root(folder_id=shared["id"], rel=SHARED_PREFIX, category=SHARED))
        return roots

    def _containers(self, site: str) -> tuple[str, dict[str, str] | ApiError]:
        """The site's Share containers (component → folder id); run in the pool, per site."""
        containers: dict[str, str] = {}
        try:
            for page in self.client.pages(f"/sites/{quote(site, safe='')}/containers"):
                for item in page:
                    entry = entry_of(item)
                    if entry is not None and isinstance(entry.get("folderId"), str):
                        containers[entry["id"]] = entry["folderId"]
        except ApiError as exc:
            return site, exc
        return site, containers

    def _site_error(self, site: str, exc: ApiError) -> ConnectorError:
        if exc.status in (403, 404):
            return ConnectorError(
                SITE_NOT_FOUND,
                f"site {site!r} does not exist or the crawl account cannot see it "
                "(private sites are visible to their members only); nothing was deleted",
            )
        return ConnectorError(
            SOURCE_ERROR, f"cannot list the containers of site {site!r}: {exc.message}"
        )

    # -- walk ------------------------------------------------------------------------------
    #
    # The walk is depth-first, folders in listing order, each folder's documents in listing
    # order: the order the items come out in, and what a checkpoint records, never depend on
    # thread timing. A *planner* runs ahead of that order: it lists up to ``concurrency``
    # folders at once (the next ones the walk will enter) and turns listings into steps, while
    # the documents of the steps ahead download in the pool. Steps take effect on the pass
    # state only when the walk reaches them, in order, so ``run.stack`` and ``run.nodes`` at a
    # checkpoint are exactly what a one-request-at-a-time walk would have had there: a resumed
    # pass lists the folder in progress again and skips what it already has.

    def _walk(self, run: PassState) -> Iterator[CrawlItem]:
        planner = self._plan(run)
        ahead: deque[_Step | Future[Fetched]] = deque()
        fetching = 0
        planning = True
        try:
            while True:
                while planning and fetching < self._window and len(ahead) < _AHEAD_STEPS:
                    step = next(planner, None)
                    if step is None:
                        planning = False
                    elif isinstance(step, _Blocked):
                        if ahead:  # hand out what is ready while the listing comes in
                            break
                        wait([step.listing.waiting])
                    elif isinstance(step, Prepared):
                        ahead.append(self.pool.submit(self.fetcher.fetch, step))
                        fetching += 1
                    else:
                        ahead.append(step)
                if not ahead:
                    if planning:
                        continue
                    return
                head = ahead.popleft()
                if isinstance(head, Future):
                    fetching -= 1
                    yield from self._emit_one(run, head.result())
                else:
                    yield from self._apply(run, head)
        finally:  # finished, failed or abandoned by the consumer: drop what has not started
            for pending in ahead:
                if isinstance(pending, Future):
                    pending.cancel()
            planner.close()

    def _plan(self, run: PassState) -> Generator[_Step | Prepared | _Blocked]:
        """The walk's steps in order; ``_Blocked`` while the next listing page is not in."""
        plan = list(run.stack)
        seen = set(run.nodes)  # planned documents are not planned twice (secondary children)
        listings: dict[str, Listing] = {}
        try:
            while plan:
                folder = plan.pop()
                listing = listings.pop(folder.folder_id, None) or self._listing(folder)
                root = run.roots[folder.root]
                yield _Enter(folder)
                subfolders: list[Pending] = []
                try:
                    while True:
                        self._prefetch(listings, chain(subfolders, reversed(plan)))
                        while not listing.ready():
                            yield _Blocked(listing)
                        page = listing.take()
                        if page is None:
                            break
                        for item in page:
                            node = entry_of(item)
                            if node is None:
                                reason = "malformed child entry"
                                yield _Bad(Failure(id=self._id(folder.folder_id), reason=reason))
                                continue
                            if node.get("id") in seen:
                                continue  # done before this pass's last checkpoint
                            rel = f"{folder.rel}/{node.get('name')}"
                            if is_walkable_folder(node):
                                subfolders.append(
                                    Pending(root=folder.root, folder_id=node["id"], rel=rel)
                                )
                            elif is_document(node) and self.filter.allows(rel):
                                seen.add(node["id"])
                                yield self._judge(run, node, root, rel)
                except (ApiError, ConnectorError) as exc:
                    yield _ListingFailed(folder, exc)
                yield _Leave(subfolders)
                plan.extend(reversed(subfolders))
        finally:
            for listing in listings.values():
                listing.cancel()

    def _listing(self, folder: Pending) -> Listing:
        path = f"/nodes/{quote(folder.folder_id, safe='')}/children"
        pages = self.client.pages(
            path, {"include": LIST_INCLUDE}, ahead=self.pool, depth=self.config.concurrency - 1
        )
        return Listing(self.pool, pages)

    def _prefetch(self, listings: dict[str, Listing], upcoming: Iterable[Pending]) -> None:
        """Start listing the next folders of the walk, at most ``concurrency`` at a time."""
        reading = sum(1 for listing in listings.values() if not listing.ready())
        for folder in islice(upcoming, self._lookahead):
            if reading >= self.config.concurrency:
                return
            if folder.folder_id not in listings:
                listings[folder.folder_id] = self._listing(folder)
                reading += 1

    def _apply(self, run: PassState, step: _Step) -> Iterator[CrawlItem]:
        if isinstance(step, _Enter):
            run.folders[step.folder.folder_id] = step.folder
        elif isinstance(step, _Leave):
            run.stack.pop()
            run.stack.extend(reversed(step.subfolders))
        elif isinstance(step, _Unchanged):
            run.nodes[step.node_id] = step.sig
        elif isinstance(step, _Bad):
            if step.node_id is None:
                run.incomplete = True
            else:
                run.nodes[step.node_id] = RETRY
            yield step.failure
        elif isinstance(step, _ListingFailed):
            yield from self._listing_failed(run, step.folder, step.error)

    def _listing_failed(
        self, run: PassState, folder: Pending, exc: ApiError | ConnectorError
    ) -> Iterator[CrawlItem]:
        if isinstance(exc, ConnectorError):
            raise exc
        root = run.roots[folder.root]
        if exc.status == 404 and folder.rel == root.rel and root.site is not None:
            raise self._site_error(root.site, exc) from None
        if exc.status == 404:  # deleted while we walked: its content is gone too
            return
        if exc.server_failing:
            raise ConnectorError(
                SOURCE_ERROR,
                f"Alfresco kept failing ({exc.message}) while listing {folder.rel}; the sync "
                "stopped before deleting anything, try again later",
            )
        run.incomplete = True
        yield Failure(
            id=self._id(folder.folder_id), reason=f"cannot list {folder.rel}: {exc.message}"
        )

    def _judge(
        self, run: PassState, node: dict[str, Any], root: Root, rel: str
    ) -> Prepared | _Unchanged | _Bad:
        """The node as a document to download, unchanged since the index has it, or broken."""
        node_id: str = node["id"]
        try:
            acl = node_acl(node)
            sig = signature(rel, acl, node.get("modifiedAt"))
            if not run.full and self.state.nodes.get(node_id) == sig:
                return _Unchanged(node_id, sig)
            doc = self._document(node, root, rel, acl)
        except ItemError as exc:
            return _Bad(Failure(id=self._id(node_id), reason=str(exc)), node_id)
        return Prepared(node_id, doc, sig, has_content=isinstance(node.get("content"), dict))

    def _prepare(
        self, run: PassState, node: dict[str, Any], root: Root, rel: str
    ) -> Generator[CrawlItem, None, Prepared | None]:
        """``_judge`` taking effect at once (for nodes found outside the walk)."""
        judged = self._judge(run, node, root, rel)
        if isinstance(judged, Prepared):
            return judged
        yield from self._apply(run, judged)
        return None

    def _document(
        self, node: dict[str, Any], root: Root, rel: str, acl: AccessControlList | None
    ) -> Document:
        return node_document(
            node,
            doc_id=self._id(node["id"]),
            root=root,
            rel=rel,
            acl=acl,
            site_url=self.config.site_url,
            mappings=self.config.field_mappings,
        )

    def _emit(self, run: PassState, batch: list[Prepared]) -> Iterator[CrawlItem]:
        for fetched in ordered_map(self.pool, self.fetcher.fetch, batch, self._window):
            yield from self._emit_one(run, fetched)

    def _emit_one(self, run: PassState, fetched: Fetched) -> Iterator[CrawlItem]:
        yield from fetched.items
        node_id = fetched.prepared.node_id
        if fetched.gone:
            return
        run.nodes[node_id] = fetched.prepared.sig if fetched.ok else RETRY
        if fetched.comments is not None:
            run.comments[node_id] = fetched.comments
        self._unsaved += 1
        if self._unsaved >= self.config.checkpoint_every:
            # Mid-folder too: a resumed pass lists the folder on top of the stack again and
            # skips the nodes it already has, so at most ``checkpoint_every`` are replayed.
            self._unsaved = 0
            yield self.state.checkpoint()

    # -- changes since the last pass -------------------------------------------------------

    def _changes(self, run: PassState, since: datetime) -> Iterator[CrawlItem]:
        self._trashed = trashed_since(self.client, since)
        batch: list[Prepared] = []
        owners: list[str] = []
        known = {c: m for comments in self.state.comments.values() for c, m in comments.items()}
        for hit in search_hits(self.client, self.config.site_ids, since):
            node_id = hit["id"]
            if node_id in run.nodes or node_id in run.folders or node_id in self._trashed:
                continue
            folder = run.folders.get(str(hit.get("parentId")))
            if folder is not None and is_document(hit):
                rel = f"{folder.rel}/{hit.get('name')}"
                if self.filter.allows(rel):
                    node = yield from self._get_node(run, node_id)
                    if node is not None:
                        prepared = yield from self._prepare(run, node, run.roots[folder.root], rel)
                        batch += [prepared] if prepared is not None else []
            elif self._comment_changed(hit, known):
                owner = next((a for a in reversed(ancestor_ids(hit)) if a in run.nodes), None)
                if owner is not None and owner not in run.comments and owner not in owners:
                    owners.append(owner)
        yield from self._emit(run, batch)
        for owner in owners:
            yield from self._refresh_comments(run, owner)

    def _comment_changed(self, hit: dict[str, Any], known: dict[str, str]) -> bool:
        """A new or edited file below a document: maybe a comment, the comments API will say.

        (A first comment also creates its forum folders; they are not worth a look.)
        """
        if not self.config.crawl_comments or hit.get("isFile") is not True:
            return False
        return known.get(hit["id"]) != hit.get("modifiedAt")

    def _get_node(
        self, run: PassState, node_id: str
    ) -> Generator[CrawlItem, None, dict[str, Any] | None]:
        try:
            node = entry_of(
                self.client.get_json(f"/nodes/{quote(node_id, safe='')}", {"include": NODE_INCLUDE})
            )
        except ApiError as exc:
            if exc.status == 404:
                return None
            node = None
            reason = exc.message
        else:
            reason = "malformed node entry"
        if node is None:
            if node_id in self.state.nodes:
                run.nodes[node_id] = RETRY
            yield Failure(id=self._id(node_id), reason=reason)
        return node

    def _refresh_comments(self, run: PassState, owner: str) -> Iterator[CrawlItem]:
        node = yield from self._get_node(run, owner)
        folder = run.folders.get(str(node.get("parentId"))) if node else None
        if node is None or folder is None:
            return
        rel = f"{folder.rel}/{node.get('name')}"
        try:
            parent = self._document(node, run.roots[folder.root], rel, node_acl(node))
        except ItemError as exc:
            yield Failure(id=self._id(owner), reason=str(exc))
            return
        items, comments = self.fetcher.comments(owner, parent)
        yield from items
        if comments is not None:
            run.comments[owner] = comments

    # -- end -------------------------------------------------------------------------------

    def _finish(self, run: PassState) -> Iterator[CrawlItem]:
        old = self.state
        nodes = dict(run.nodes)
        if run.incomplete:  # absent is not deleted when we could not look everywhere
            nodes.update(
                {k: v for k, v in old.nodes.items() if k not in nodes and k not in self._trashed}
            )
        for node_id in sorted(old.nodes.keys() - nodes.keys()):
            yield Deletion(id=self._id(node_id))
        comments: dict[str, dict[str, str]] = {}
        if self.config.crawl_comments:
            comments = {o: c for o, c in old.comments.items() if o not in run.comments}
            comments.update(run.comments)
            comments = {
                owner: {c: m for c, m in known.items() if c not in self._trashed}
                for owner, known in comments.items()
                if owner in nodes
            }
        kept = {c for known in comments.values() for c in known}
        for comment_id in sorted({c for known in old.comments.values() for c in known} - kept):
            yield Deletion(id=self._id(comment_id))
        groups = yield from crawl_groups(self.client, self.pool, self._window, old.groups)
        last_sync = old.last_sync if run.incomplete and old.last_sync else run.started
        final = CrawlState(
            config=old.config, last_sync=last_sync, nodes=nodes, comments=comments, groups=groups
        )
        self.state = final
        logger.info(
            "alfresco pass finished",
            extra={"documents": len(nodes), "complete": run.full and not run.incomplete},
        )
        yield final.checkpoint(complete=run.full and not run.incomplete)

    def _id(self, node_id: str) -> str:
        return f"{self.data_source_id}:{node_id}"
