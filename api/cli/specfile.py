"""Data source spec files (YAML or JSON) to ``DataSourceSpec``, with errors that cite lines.

An administrator editing a long spec wants ``spec.yaml:12: config.root: Field required``,
not a pydantic dump. The file is parsed twice: once for the data, once with PyYAML's composer
for the node marks, and each pydantic error location is walked down that node tree to the
deepest key that exists. The connector's own config model validates ``config`` here too
(through the registry, the same check the data source service runs), so mistakes inside
``config`` get a line number as well.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, ValidationError

from api.cli.common import EXIT_USAGE, CliError
from sync_engine.models import DataSourceSpec


@dataclass(frozen=True)
class Problem:
    line: int | None
    field: str
    message: str

    def render(self, source: str) -> str:
        where = f"{source}:{self.line}" if self.line is not None else source
        return f"{where}: {self.field}: {self.message}"


class SpecFileError(CliError):
    """An unusable spec file; the message lists every problem with its line (exit code 2)."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        ordered = sorted(problems, key=lambda p: (p.line is None, p.line or 0))
        lines = "\n".join(f"  {p.render(source)}" for p in ordered)
        super().__init__(f"invalid data source spec in {source}:\n{lines}", EXIT_USAGE)
        self.problems = ordered


def line_of(root: yaml.Node | None, loc: Sequence[int | str]) -> int | None:
    """1-based line of the deepest node along ``loc``; a missing key cites its parent mapping."""
    if root is None:
        return None
    node: yaml.Node = root
    line = node.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            pair = next(
                (
                    (k, v)
                    for k, v in node.value
                    if isinstance(k, yaml.ScalarNode) and k.value == str(part)
                ),
                None,
            )
            if pair is None:
                break
            line, node = pair[0].start_mark.line + 1, pair[1]
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _parse(text: str, source: str, is_json: bool) -> tuple[Any, yaml.Node | None]:
    try:
        data = json.loads(text) if is_json else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise SpecFileError(
            source, [Problem(exc.lineno, "(file)", f"not valid JSON: {exc.msg}")]
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        reason = exc.problem or exc.context or "syntax error"
        raise SpecFileError(
            source, [Problem(line, "(file)", f"not valid YAML: {reason}")]
        ) from None
    except yaml.YAMLError as exc:
        raise SpecFileError(source, [Problem(None, "(file)", f"not valid YAML: {exc}")]) from None
    try:
        marks = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:  # strict JSON that PyYAML's YAML 1.1 reader cannot follow
        marks = None
    return data, marks


def _submodel(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside ``Model``, ``Model | None``, ``list[Model]``, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _submodel(arg)
        if found is not None:
            return found
    return None


def _unknown_field(model: type[BaseModel] | None, loc: Sequence[int | str]) -> str:
    """'unknown field', with the closest known name (or the known names) of its model."""
    current = model
    for part in loc[:-1]:
        if isinstance(part, int) or current is None:
            continue
        field = current.model_fields.get(part)
        current = _submodel(field.annotation) if field is not None else None
    if current is None:
        return "unknown field"
    known = sorted(current.model_fields)
    close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
    if close:
        return f"unknown field; did you mean {close[0]!r}?"
    return f"unknown field; the known ones are {', '.join(known)}"


def _problems(
    exc: ValidationError,
    marks: yaml.Node | None,
    prefix: tuple[str, ...] = (),
    model: type[BaseModel] | None = None,
) -> list[Problem]:
    found = []
    for error in exc.errors(include_url=False, include_input=False):
        loc = (*prefix, *error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden" and error["loc"]:
            message = _unknown_field(model, error["loc"])
        found.append(
            Problem(line_of(marks, loc), ".".join(str(p) for p in loc) or "(file)", message)
        )
    return found


def parse_spec(
    text: str, source: str, *, is_json: bool = False, name: str | None = None
) -> DataSourceSpec:
    """Validate a spec and its connector config; ``name`` fills in a spec that omits it.

    Problems in the spec and in its ``config`` are reported together, so one edit fixes all.
    """
    data, marks = _parse(text, source, is_json)
    if not isinstance(data, dict):
        problem = Problem(
            line_of(marks, ()), "(file)", "must be a mapping with name, type and config"
        )
        raise SpecFileError(source, [problem])
    if name is not None:
        data.setdefault("name", name)
    problems: list[Problem] = []
    spec: DataSourceSpec | None = None
    try:
        spec = DataSourceSpec.model_validate(data)
    except ValidationError as exc:
        problems += _problems(exc, marks, model=DataSourceSpec)
    kind, config = data.get("type"), data.get("config", {})
    if isinstance(kind, str) and isinstance(config, dict):
        problems += _connector_problems(kind, config, marks)
    if problems or spec is None:
        raise SpecFileError(source, problems)
    return spec


def _connector_problems(
    kind: str, config: dict[str, Any], marks: yaml.Node | None
) -> list[Problem]:
    from connectors.errors import ConnectorError
    from connectors.registry import get_connector_class

    try:
        model = get_connector_class(kind).config_model
    except ConnectorError as exc:
        return [Problem(line_of(marks, ("type",)), "type", exc.message)]
    try:
        model.model_validate(config)
    except ValidationError as exc:
        return _problems(exc, marks, ("config",), model)
    return []


def load_spec_file(path: Path, *, name: str | None = None) -> DataSourceSpec:
    """Read ``path`` ('-' for stdin); ``.json`` files are read as strict JSON, others as YAML."""
    import sys

    source = "<stdin>" if str(path) == "-" else str(path)
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise CliError(f"cannot read {source}: {reason}", EXIT_USAGE) from None
    return parse_spec(text, source, is_json=path.suffix.lower() == ".json", name=name)
