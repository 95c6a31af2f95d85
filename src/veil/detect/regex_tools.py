"""Small helpers on regular-expression source text (used to build hyperscan prefilters)."""

from __future__ import annotations

import re

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
