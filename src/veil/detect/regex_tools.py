"""Small helpers on regular-expression source text (used to build hyperscan prefilters)."""

from __future__ import annotations

import re
from typing import Any

_BACKREF = re.compile(r"\\([1-9])")


def capture_groups(regex: str) -> list[str]:
    """The source text of each capturing group, in group-number order."""
    groups: list[tuple[int, int]] = []  # (open index, close index) in order of opening
    stack: list[int | None] = []
    i = 0
    in_class = False
    while i < len(regex):
        ch = regex[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            if ch == "]":
                in_class = False
        elif ch == "[":
            in_class = True
            if regex[i + 1 : i + 2] == "]" or regex[i + 1 : i + 3] == "^]":
                i += 2 if regex[i + 1] == "]" else 3
                continue
        elif ch == "(":
            capturing = regex[i + 1 : i + 2] != "?" or regex[i + 1 : i + 4] == "?P<"
            if capturing:
                groups.append((i, -1))
                stack.append(len(groups) - 1)
            else:
                stack.append(None)
        elif ch == ")" and stack:
            slot = stack.pop()
            if slot is not None:
                groups[slot] = (groups[slot][0], i)
        i += 1
    out = []
    for start, end in groups:
        body = regex[start + 1 : end]
        if body.startswith("?P<"):
            body = body[body.index(">") + 1 :]
        out.append(body)
    return out


def expand_backreferences(regex: str) -> str:
    """Replace each backreference ``\\N`` by a copy of group N's pattern: a superset of the language."""
    if not _BACKREF.search(regex):
        return regex
    groups = capture_groups(regex)

    def sub(m: re.Match[str]) -> str:
        n = int(m.group(1))
        # A preceding backslash means this was an escaped backslash followed by a digit.
        if m.start() > 0 and regex[m.start() - 1] == "\\":
            return m.group(0)
        return f"(?:{groups[n - 1]})" if n <= len(groups) else m.group(0)

    return _BACKREF.sub(sub, regex)


MAXREPEAT_WIDTH = 1 << 30


def _parser() -> Any:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import sre_parse
    return sre_parse


def max_width(regex: str, flags: int = 0) -> int:
    """The longest match ``regex`` can produce (a huge number when unbounded)."""
    return int(min(_parser().parse(regex, flags).getwidth()[1], MAXREPEAT_WIDTH))


def max_lookahead(regex: str, flags: int = 0) -> int:
    """How far past a match's end its lookahead assertions can read (0 when it has none)."""
    sre = _parser()
    worst = 0

    def walk(items: Any) -> None:
        nonlocal worst
        for op, arg in items:
            name = str(op)
            if name in ("ASSERT", "ASSERT_NOT"):
                direction, sub = arg
                if direction == 1:
                    worst = max(worst, int(min(sub.getwidth()[1], MAXREPEAT_WIDTH)))
                walk(sub)
            elif name in ("SUBPATTERN",):
                walk(arg[-1])
            elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                walk(arg[2])
            elif name == "BRANCH":
                for branch in arg[1]:
                    walk(branch)
            elif name in ("GROUPREF_EXISTS",):
                walk(arg[1])
                if arg[2] is not None:
                    walk(arg[2])

    walk(sre.parse(regex, flags))
    return worst


_BOUNDED = re.compile(r"(?<!\\)\{(\d+),(\d+)\}")


def loosen_repeats(regex: str, limit: int = 24) -> str:
    """``{m,n}`` with ``n > limit`` becomes ``{m,}``: a superset that automata engines handle far faster."""
    return _BOUNDED.sub(lambda m: m.group(0) if int(m.group(2)) <= limit else f"{{{m.group(1)},}}", regex)
