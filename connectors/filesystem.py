"""A connector for a local folder: the offline demo and the proof that the contract is generic.

Each file is a document whose id is its path relative to ``root``. Incremental passes compare
(mtime, size, sidecar mtime) with the previous pass and diff the enumeration for deletions.
ACLs fail closed: a file gets its ``<file>.acl.json`` sidecar, else ``default_acl``, else none.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import mimetypes
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from acl import AccessControlList
from connectors.base import CheckResult, CrawlLimits
from connectors.errors import SOURCE_ERROR, ConnectorError
from connectors.models import Checkpoint, CrawlItem, Deletion, Document, Failure, SyncMode
from connectors.pathfilter import PathFilter, validate_patterns

logger = logging.getLogger(__name__)

SIDECAR_SUFFIX = ".acl.json"
STATE_VERSION = 1
_RETRY = [-1, -1, -1]
"""Signature recorded for a file that failed to read: known (not deleted), retried next pass."""


class FilesystemConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    root: Path
    inclusion_patterns: list[str] = Field(default_factory=list)
    exclusion_patterns: list[str] = Field(default_factory=list)
    default_acl: AccessControlList | None = None
    """Applied to files without a sidecar; leave unset to keep them invisible (fail closed)."""
    acl_sidecars: bool = True
    checkpoint_every: int = Field(default=100, ge=1, le=100)
    """Files between two checkpoints (at most 100: a kill replays at most that many)."""
    case_insensitive_ids: bool = False
    """Match the ACL files' user and group ids without regard to case."""

    _check_patterns = field_validator("inclusion_patterns", "exclusion_patterns")(validate_patterns)

    @field_validator("root")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        # A relative root would resolve against whichever directory the worker started in.
        if not value.is_absolute():
            raise ValueError("must be an absolute path (e.g. /srv/shared/docs)")
        return value


class FilesystemConnector:
    type_name: ClassVar[str] = "filesystem"
    config_model: ClassVar[type[BaseModel]] = FilesystemConfig

    def __init__(self, config: FilesystemConfig, data_source_id: str) -> None:
        self.config = config
        self.data_source_id = data_source_id
        self._filter = PathFilter.from_patterns(
            config.inclusion_patterns, config.exclusion_patterns
        )

    def check(self) -> CheckResult:
        root = self.config.root
        if not root.is_dir():
            return CheckResult(ok=False, message=f"{root} is not a folder this worker can see")
        if not os.access(root, os.R_OK | os.X_OK):
            return CheckResult(ok=False, message=f"{root} is not readable by this worker")
        return CheckResult(ok=True, message=f"{root} is readable")

    def crawl(
        self, mode: SyncMode, checkpoint: Checkpoint | None, limits: CrawlLimits
    ) -> Iterator[CrawlItem]:
        if not self.config.root.is_dir():
            raise ConnectorError(SOURCE_ERROR, f"{self.config.root} is not a folder")
        state = self._start_state(mode, checkpoint)
        baseline: dict[str, list[int]] = state["files"]
        run: dict[str, Any] = state["pass"]
        seen: dict[str, list[int]] = run["seen"]
        # A resumed pass stays incomplete if an earlier attempt could not list a folder: the
        # files it missed sort before the cursor, so this attempt would not see them either.
        incomplete = bool(run.get("incomplete"))
        since_checkpoint = 0
        paths, walk_errors = self._enumerate()
        for rel, reason in walk_errors:
            incomplete = run["incomplete"] = True
            yield Failure(id=self._doc_id(rel), reason=reason)
        for rel in paths:
            if run["cursor"] is not None and rel <= run["cursor"]:
                continue
            sig = self._signature(rel)
            if sig is None:  # vanished between enumeration and now
                continue
            if run["full"] or baseline.get(rel) != sig:
                items = list(self._document(rel, limits))
                if any(isinstance(item, Failure) for item in items):
                    sig = _RETRY
                yield from items
            seen[rel] = sig
            run["cursor"] = rel
            since_checkpoint += 1
            if since_checkpoint >= self.config.checkpoint_every:
                since_checkpoint = 0
                yield Checkpoint(state=copy.deepcopy(state))
        if incomplete:  # keep what we could not look at, delete nothing
            seen = {**baseline, **seen}
        else:
            for rel in sorted(baseline.keys() - seen.keys()):
                yield Deletion(id=self._doc_id(rel))
        final = {
            "version": STATE_VERSION,
            "config": self._fingerprint(),
            "files": seen,
            "pass": None,
        }
        yield Checkpoint(state=final, complete=bool(run["full"]) and not incomplete)

    def _start_state(self, mode: SyncMode, checkpoint: Checkpoint | None) -> dict[str, Any]:
        """The state a pass starts from: a resumed pass, or a new full/incremental one."""
        old = checkpoint.state if checkpoint is not None and mode != SyncMode.FORCED_FULL else {}
        usable = old.get("version") == STATE_VERSION and old.get("config") == self._fingerprint()
        # after a config change the old files still tell what to delete; the pass is full
        same_format = old.get("version") == STATE_VERSION
        files: dict[str, list[int]] = dict(old.get("files", {})) if same_format else {}
        running = old.get("pass") if usable else None
        if running is not None and (running["full"] or mode == SyncMode.INCREMENTAL):
            return {**old, "pass": dict(running, seen=dict(running["seen"]))}
        full = mode != SyncMode.INCREMENTAL or not usable
        return {
            "version": STATE_VERSION,
            "config": self._fingerprint(),
            "files": files,
            "pass": {"full": full, "cursor": None, "seen": {}},
        }

    def _fingerprint(self) -> str:
        """Changes when a config change alters what or how documents are indexed."""
        parts = self.config.model_dump(mode="json", exclude={"checkpoint_every"})
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]

    def _enumerate(self) -> tuple[list[str], list[tuple[str, str]]]:
        """Every in-scope relative path, globally sorted so that a cursor can resume a pass."""
        root = self.config.root
        errors: list[tuple[str, str]] = []

        def on_error(exc: OSError) -> None:
            rel = Path(exc.filename).relative_to(root).as_posix() if exc.filename else "."
            errors.append((rel, f"cannot list folder: {exc.strerror}"))

        paths: list[str] = []
        for folder, _dirs, files in os.walk(root, onerror=on_error):
            for name in files:
                if self.config.acl_sidecars and name.endswith(SIDECAR_SUFFIX):
                    continue
                full = Path(folder, name)
                if full.is_symlink():
                    continue
                rel = full.relative_to(root).as_posix()
                if self._filter.allows(rel):
                    paths.append(rel)
        paths.sort()
        return paths, errors

    def _signature(self, rel: str) -> list[int] | None:
        try:
            st = (self.config.root / rel).stat()
        except OSError:
            return None
        sidecar = self._sidecar(rel)
        sidecar_mtime = sidecar.stat().st_mtime_ns if sidecar and sidecar.exists() else 0
        return [st.st_mtime_ns, st.st_size, sidecar_mtime]

    def _sidecar(self, rel: str) -> Path | None:
        if not self.config.acl_sidecars:
            return None
        return self.config.root / (rel + SIDECAR_SUFFIX)

    def _doc_id(self, rel: str) -> str:
        return f"{self.data_source_id}:{rel}"

    def _acl(self, rel: str) -> AccessControlList | None:
        sidecar = self._sidecar(rel)
        if sidecar is not None and sidecar.exists():
            return AccessControlList.model_validate_json(sidecar.read_bytes())
        return self.config.default_acl

    def _document(self, rel: str, limits: CrawlLimits) -> Iterator[Document | Failure]:
        """The file as a document; a broken sidecar still yields it, visible to nobody."""
        path = self.config.root / rel
        doc_id = self._doc_id(rel)
        try:
            st = path.stat()
            with path.open("rb") as handle:
                content = handle.read(limits.max_content_bytes)
        except OSError as exc:
            yield Failure(id=doc_id, reason=f"cannot read file: {exc.strerror}")
            return
        try:
            acl = self._acl(rel)
        except (OSError, ValidationError) as exc:
            logger.warning("unusable acl sidecar", extra={"path": rel, "error": type(exc).__name__})
            yield Failure(id=doc_id, reason=f"unusable ACL sidecar {rel}{SIDECAR_SUFFIX}")
            acl = None
        yield Document(
            id=doc_id,
            title=path.name,
            source_uri=path.resolve().as_uri(),
            content=content,
            content_type=mimetypes.guess_type(path.name)[0] or "application/octet-stream",
            content_length=st.st_size,
            modified_at=datetime.fromtimestamp(st.st_mtime, tz=UTC),
            category="file",
            path=rel,
            folder=rel.rsplit("/", 1)[0] if "/" in rel else None,
            attributes={"size": st.st_size},
            acl=acl,
        )
