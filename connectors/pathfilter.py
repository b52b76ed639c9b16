"""Inclusion and exclusion regexes on a document's relative path, shared by every connector.

Patterns are RE2 expressions (``google-re2``): matching takes time linear in the path's length
whatever the pattern, so a pattern such as ``(a+)+$`` cannot stall the single worker the way a
backtracking engine does. RE2 is Python's ``re`` syntax without backreferences (``\\1``) and
lookaround (``(?=``, ``(?!``, ``(?<=``, ``(?<!``); see docs/patterns.md. Patterns are compiled
when a data source is configured, so an unsupported one is refused there, naming it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import re2

SYNTAX = "RE2 syntax: Python's re without backreferences or lookaround; see docs/patterns.md"


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # the error is raised to the caller, not printed by the library
    return options


def compile_pattern(pattern: str) -> Any:
    """Compile one pattern, or raise ``ValueError`` naming it and RE2's reason."""
    try:
        return re2.compile(pattern, options=_options())
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        text = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
        raise ValueError(f"invalid regular expression {pattern!r}: {text} ({SYNTAX})") from None


def validate_patterns(values: list[str]) -> list[str]:
    """Pydantic field validator body: reject a regex RE2 cannot compile, naming it."""
    for value in values:
        try:
            compile_pattern(value)
        except ValueError as exc:
            if value[:1] in "*?" or "*." in value:  # a shell glob, e.g. *.tmp
                example = re.escape(value.lstrip("*?").replace("*", "")) + "$"
                raise ValueError(
                    f"{exc}; patterns are regular expressions searched in the path, not globs:"
                    f" write '{example}' for '{value}'"
                ) from None
            raise
    return values


@dataclass(frozen=True)
class PathFilter:
    """``re.search`` semantics; exclusion wins; no inclusion pattern means "include all"."""

    include: tuple[Any, ...] = ()
    exclude: tuple[Any, ...] = ()

    @classmethod
    def from_patterns(cls, inclusion: list[str], exclusion: list[str]) -> PathFilter:
        return cls(
            include=tuple(compile_pattern(p) for p in inclusion),
            exclude=tuple(compile_pattern(p) for p in exclusion),
        )

    def allows(self, path: str) -> bool:
        if any(p.search(path) for p in self.exclude):
            return False
        return not self.include or any(p.search(path) for p in self.include)
