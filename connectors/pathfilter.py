"""Inclusion and exclusion regexes on a document's relative path, shared by every connector."""

from __future__ import annotations

import re
from dataclasses import dataclass


def validate_patterns(values: list[str]) -> list[str]:
    """Pydantic field validator body: reject a regex that does not compile, naming it."""
    for value in values:
        try:
            re.compile(value)
        except re.error as exc:
            hint = ""
            if value[:1] in "*?" or "*." in value:  # a shell glob, e.g. *.tmp
                example = re.escape(value.lstrip("*?").replace("*", "")) + "$"
                hint = (
                    "; patterns are regular expressions searched in the path, not globs:"
                    f" write '{example}' for '{value}'"
                )
            raise ValueError(f"invalid regular expression {value!r}: {exc}{hint}") from None
    return values


@dataclass(frozen=True)
class PathFilter:
    """``re.search`` semantics; exclusion wins; no inclusion pattern means "include all"."""

    include: tuple[re.Pattern[str], ...] = ()
    exclude: tuple[re.Pattern[str], ...] = ()

    @classmethod
    def from_patterns(cls, inclusion: list[str], exclusion: list[str]) -> PathFilter:
        return cls(
            include=tuple(re.compile(p) for p in inclusion),
            exclude=tuple(re.compile(p) for p in exclusion),
        )

    def allows(self, path: str) -> bool:
        if any(p.search(path) for p in self.exclude):
            return False
        return not self.include or any(p.search(path) for p in self.include)
