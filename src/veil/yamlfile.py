"""YAML files validated with pydantic, with errors that name the file, line and key."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from veil.errors import ConfigError

M = TypeVar("M", bound=BaseModel)
Loc = tuple[str | int, ...]


def _line_index(node: yaml.Node, path: Loc, out: dict[Loc, int]) -> None:
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.start_mark.line)
            out[(*path, key)] = key_node.start_mark.line + 1
            _line_index(value_node, (*path, key), out)
            out[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _line_index(item, (*path, i), out)


def read_yaml(path: str | Path, error: type[ConfigError] = ConfigError) -> tuple[Any, dict[Loc, int]]:
    """The parsed document and a map from key paths to 1-based line numbers."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{p}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{p}: cannot read: {exc}") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise error(f"{p}: {where}invalid YAML: {getattr(exc, 'problem', exc)}") from None
    lines: dict[Loc, int] = {}
    if node is not None:
        _line_index(node, (), lines)
    return data, lines


def line_of(lines: dict[Loc, int], loc: Loc) -> int | None:
    """The line of the deepest known prefix of ``loc``."""
    for n in range(len(loc), -1, -1):
        if loc[:n] in lines:
            return lines[loc[:n]]
    return None


def validate(model: type[M], data: Any, lines: dict[Loc, int], source: str,
             error: type[ConfigError] = ConfigError) -> M:  # fmt: skip
    """``model`` validated from ``data``; the first problems are reported with their line and key."""
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        problems = []
        for item in exc.errors()[:5]:
            loc: Loc = tuple(item["loc"])
            key = ".".join(str(part) for part in loc) or "(top level)"
            line = line_of(lines, loc)
            where = f"line {line}, " if line else ""
            problems.append(f"{where}key '{key}': {item['msg']}")
        more = f" (+{len(exc.errors()) - 5} more)" if len(exc.errors()) > 5 else ""
        raise error(f"{source}: " + "; ".join(problems) + more) from None
