"""YAML files validated with pydantic, with errors that name the file, line and key."""

from __future__ import annotations

import re
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


MAX_NODES = 100_000  # a policy is small; aliases that expand past this are a "billion laughs" bomb
# Keys shown in messages: the shapes of policy keys (snake_case) and entity names (UPPER_SNAKE_CASE) only; a
# mixed-case word could be anything a file holds (a password used as a key).
_KEY = re.compile(r"[a-z_][a-z0-9_\-]{0,39}|[A-Z][A-Z0-9_]{0,63}")


def _bounded(node: yaml.Node, source: Path, error: type[ConfigError]) -> None:
    """Refuse a document whose aliases expand beyond :data:`MAX_NODES` (counted without expanding them)."""
    stack: list[yaml.Node] = [node]
    seen = 0
    while stack:
        item = stack.pop()
        seen += 1
        if seen > MAX_NODES:
            raise error(f"{source}: the YAML expands to more than {MAX_NODES} values (aliases repeating aliases?)")
        if isinstance(item, yaml.MappingNode):
            for key, value in item.value:
                stack.extend((key, value))
        elif isinstance(item, yaml.SequenceNode):
            stack.extend(item.value)


def read_yaml(path: str | Path, error: type[ConfigError] = ConfigError) -> tuple[Any, dict[Loc, int]]:
    """The parsed document and a map from key paths to 1-based line numbers.

    Errors name the line and the problem, never the text of the file (which may be any file a user named)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{p}: file not found") from None
    except UnicodeDecodeError:
        raise error(f"{p}: not UTF-8 text") from None
    except OSError as exc:
        raise error(f"{p}: cannot read: {exc.strerror}") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is not None:
            _bounded(node, p, error)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise error(f"{p}: {where}invalid YAML: {getattr(exc, 'problem', None) or type(exc).__name__}") from None
    except RecursionError:
        raise error(f"{p}: the YAML is nested too deeply") from None
    except ValueError:  # an integer of more digits than Python converts (4,300)
        raise error(f"{p}: the YAML holds a number too long to read") from None
    lines: dict[Loc, int] = {}
    if node is not None:
        try:
            _line_index(node, (), lines)
        except RecursionError:
            raise error(f"{p}: the YAML is nested too deeply") from None
    return data, lines


def _key_text(loc: Loc) -> str:
    """A key path for a message: names that look like keys, never a document's text used as a key."""
    parts = [str(p) if isinstance(p, int) or _KEY.fullmatch(str(p)) else "(an unexpected key)" for p in loc]
    return ".".join(parts) or "(top level)"


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
            key = _key_text(loc)
            line = line_of(lines, loc)
            where = f"line {line}, " if line else ""
            problems.append(f"{where}key '{key}': {item['msg']}")
        more = f" (+{len(exc.errors()) - 5} more)" if len(exc.errors()) > 5 else ""
        raise error(f"{source}: " + "; ".join(problems) + more) from None
