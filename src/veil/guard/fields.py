"""Which parts of a request or answer body are content: the walk behind whole-body coverage.

:func:`slots` visits every value of a JSON body (iteratively, with a depth bound) and returns a :class:`Slot` for
each piece of content: strings at any depth, numbers (in requests), object keys that do not look like API field
names, and names. What is structure comes from ``structure.yaml`` (data, reviewed like a policy): paths of ids,
enums and parameters, JSON Schemas (whose keywords are structure and whose descriptions and enums are content),
and, in answers, the parts that stream in pieces.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml

from veil.errors import InputError

Kind = Literal["text", "number", "key", "name"]
Direction = Literal["requests", "answers"]
PathStep = str | int

_FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}|\$[a-z][A-Za-z]{0,31}")
_DATA_URL = re.compile(r"data:[\w.+-]+/[\w.+-]+(?:;[\w.+-]+=[\w.+-]+)*;base64,")
_NAME_CHARS = re.compile(r"[^A-Za-z0-9_-]+")

SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})
SCHEMA_SUBSCHEMAS = frozenset(
    {
        "items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames",
        "additionalItems", "unevaluatedItems", "unevaluatedProperties", "anyOf", "oneOf", "allOf", "prefixItems",
        "contentSchema",
    }
)  # fmt: skip
SCHEMA_KEYWORDS = frozenset(
    {
        "type", "format", "pattern", "required", "$ref", "$schema", "$id", "$anchor", "$dynamicRef",
        "$dynamicAnchor", "$vocabulary", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
        "minLength", "maxLength", "minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties",
        "minContains", "maxContains", "contentEncoding", "contentMediaType", "dependentRequired", "deprecated",
        "readOnly", "writeOnly", "nullable", "strict", "discriminator",
    }
)  # fmt: skip


@dataclass
class Node:
    """A step of the structure paths: ``kind`` says what the subtree below it is."""

    children: dict[str, Node] = field(default_factory=dict)
    kind: str | None = None


@dataclass(frozen=True)
class Slot:
    """One piece of content: ``container[key]`` (or the key itself, for ``kind == "key"``)."""

    container: Any
    key: Any
    kind: Kind
    path: tuple[PathStep, ...] = ()
    streamed: bool = False

    @property
    def text(self) -> str:
        if self.kind == "key":
            return str(self.key)
        value = self.container[self.key]
        return value if isinstance(value, str) else _number_text(value)


def _number_text(value: int | float) -> str:
    return str(value) if isinstance(value, int) else repr(value)


def _add(root: Node, path: str, kind: str) -> None:
    node = root
    for step in path.split("."):
        node = node.children.setdefault(step, Node())
    node.kind = kind


def _flatten(items: list[Any]) -> list[str]:
    out: list[str] = []
    for item in items:
        out.extend(_flatten(item) if isinstance(item, list) else [str(item)])
    return out


@cache
def _structure() -> dict[str, Any]:
    text = resources.files("veil.guard").joinpath("structure.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


@cache
def shape(direction: Direction, path: str) -> Node:
    """The structure tree of one endpoint (an unknown endpoint: only the common fields are structure)."""
    spec = _structure()[direction].get(path)
    root = Node()
    if spec is None:
        common = "common_request" if direction == "requests" else "common_answer"
        spec = {"structural": _structure()[common]}
    for kind in ("structural", "schemas", "names", "streamed"):
        for p in _flatten(spec.get(kind, [])):
            _add(root, p, kind)
    return root


def endpoints(direction: Direction) -> list[str]:
    return sorted(_structure()[direction])


def sanitize_name(value: str) -> str:
    """A pseudonymized name in the API's name pattern (``^[A-Za-z0-9_-]{1,64}$``)."""
    return (_NAME_CHARS.sub("_", value).strip("_") or "user")[:64]


def write_back(slots: Sequence[Slot], texts: Sequence[str]) -> None:
    """Put each slot's new text in place: values directly (names reduced to the API's pattern), renamed keys last
    (value slots still point at the old keys) and in the object's own order."""
    renames: dict[int, tuple[dict[str, Any], dict[str, str]]] = {}
    for slot, text in zip(slots, texts, strict=True):
        if text == slot.text:
            continue
        if slot.kind == "key":
            renames.setdefault(id(slot.container), (slot.container, {}))[1][slot.key] = text
        else:
            slot.container[slot.key] = sanitize_name(text) if slot.kind == "name" else text
    for container, names in renames.values():
        items = list(container.items())
        container.clear()
        container.update((names.get(k, k), v) for k, v in items)


def _step(nodes: tuple[Node, ...], key: str) -> tuple[tuple[Node, ...], str | None]:
    """The nodes below ``nodes`` for ``key`` and the first kind that applies to them."""
    nxt: list[Node] = []
    kind = None
    for node in nodes:
        for child in (node.children.get(key), node.children.get("*")):
            if child is None:
                continue
            if child.kind is not None and kind is None:
                kind = child.kind
            if child.children:
                nxt.append(child)
    return tuple(nxt), kind


def _item_step(item: Any, position: int) -> PathStep:
    """A list item's place in a path: its ``index`` field (stream chunks number choices and tool calls) or position."""
    if isinstance(item, dict):
        index = item.get("index")
        if isinstance(index, int) and not isinstance(index, bool):
            return index
    return position


Entry = tuple[Any, tuple[Node, ...], int, tuple[PathStep, ...], str, bool]


def slots(body: Any, root: Node, *, numbers: bool, max_depth: int) -> list[Slot]:
    """Every piece of content in ``body``, in document order (the body is not changed)."""
    out: list[Slot] = []
    stack: list[Entry] = [(body, (root,), 0, (), "content", False)]
    while stack:
        value, nodes, depth, path, mode, streamed = stack.pop()
        if depth > max_depth:
            raise InputError(f"the JSON body is nested deeper than {max_depth} levels")
        children: list[Entry] = []
        if mode == "schema":
            _schema_children(value, depth, path, numbers, out, children)
        elif isinstance(value, dict):
            for key, item in value.items():
                below, kind = _step(nodes, key)
                if not _FIELD_NAME.fullmatch(key) and kind is None:
                    out.append(Slot(value, key, "key", path, streamed))
                _visit(value, key, item, below, kind, depth, (*path, key), streamed, numbers, out, children)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                below, kind = _step(nodes, "*")
                _visit(
                    value, i, item, below, kind, depth, (*path, _item_step(item, i)), streamed, numbers, out, children
                )
        stack.extend(reversed(children))
    return out


def _visit(
    container: Any,
    key: Any,
    item: Any,
    nodes: tuple[Node, ...],
    kind: str | None,
    depth: int,
    path: tuple[PathStep, ...],
    streamed: bool,
    numbers: bool,
    out: list[Slot],
    children: list[Entry],
) -> None:
    if kind == "structural":
        return
    if kind == "schemas":
        children.append((item, (), depth + 1, path, "schema", streamed))
        return
    streamed = streamed or kind == "streamed"
    if isinstance(item, str):
        if not _DATA_URL.match(item):
            out.append(Slot(container, key, "name" if kind == "names" else "text", path, streamed))
    elif isinstance(item, bool) or item is None:
        return
    elif isinstance(item, int | float):
        if numbers:
            out.append(Slot(container, key, "number", path, streamed))
    elif isinstance(item, dict | list):
        children.append((item, nodes, depth + 1, path, "content", streamed))


def _schema_children(
    schema: Any, depth: int, path: tuple[PathStep, ...], numbers: bool, out: list[Slot], children: list[Entry]
) -> None:
    """A JSON Schema: keywords and property names are structure; descriptions, examples and enums are content."""
    if isinstance(schema, list):
        children.extend((s, (), depth + 1, (*path, i), "schema", False) for i, s in enumerate(schema))
        return
    if not isinstance(schema, dict):
        return
    for key, value in schema.items():
        if key in SCHEMA_MAPS and isinstance(value, dict):
            children.extend((s, (), depth + 2, (*path, key, n), "schema", False) for n, s in value.items())
        elif key in SCHEMA_SUBSCHEMAS:
            children.append((value, (), depth + 1, (*path, key), "schema", False))
        elif key not in SCHEMA_KEYWORDS:  # description, title, enum, examples, default... and anything unknown
            _visit(schema, key, value, (), None, depth, (*path, key), False, numbers, out, children)
