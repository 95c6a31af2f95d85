"""Personal data written in an escaped form: ``ann%40example.com``, ``ann\\u0040example.com``, ``ann&#64;example.com``.

Recognizers read plain text, so an e-mail in a URL, in a JSON string escape or in an HTML entity slips past them.
:func:`decoded_view` undoes percent-encoding, JSON/JS ``\\uXXXX`` / ``\\xXX`` escapes and HTML character references
(nested ones too, a few rounds deep) and keeps, for every decoded character, the span of the original text it
came from. :func:`detect_encoded` runs the detector on that view and maps each finding back onto the original
text, so the value reported (and pseudonymized, and restored) is the escaped text exactly as it was written.
A text with no escape costs one regex search.
"""

from __future__ import annotations

import html.entities
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from veil.detect.engine import Detector
from veil.detect.resolve import resolve
from veil.types import Finding

_ESCAPE = re.compile(
    r"(?:%[0-9A-Fa-f]{2})+"  # a run of percent-escapes is one UTF-8 byte string
    r"|\\u[0-9A-Fa-f]{4}(?:\\u[0-9A-Fa-f]{4})?"  # a surrogate pair is two escapes
    r"|\\x[0-9A-Fa-f]{2}"
    r"|&#[0-9]{1,7};|&#[xX][0-9A-Fa-f]{1,6};|&[A-Za-z][A-Za-z0-9]{1,31};"
)
ROUNDS = 3  # %2540 -> %40 -> @: nested encodings a few levels deep


@dataclass(frozen=True, slots=True)
class View:
    """``text`` decoded; ``spans[i]``: the (start, end) of the original text that decoded character ``i`` came from."""

    text: str
    spans: tuple[tuple[int, int], ...]

    def original(self, start: int, end: int) -> tuple[int, int]:
        return self.spans[start][0], self.spans[end - 1][1]


def has_escapes(text: str) -> bool:
    return _ESCAPE.search(text) is not None


def _decode_one(escape: str) -> str | None:
    """The text an escape stands for (``None``: not a valid escape, keep it as written)."""
    try:
        if escape.startswith("%"):
            return bytes.fromhex(escape.replace("%", "")).decode("utf-8")
        if escape.startswith("\\u"):
            units = [int(escape[i + 2 : i + 6], 16) for i in range(0, len(escape), 6)]
            return "".join(chr(u) for u in units).encode("utf-16", "surrogatepass").decode("utf-16")
        if escape.startswith("\\x"):
            return chr(int(escape[2:], 16))
        if escape.startswith("&#x") or escape.startswith("&#X"):
            return chr(int(escape[3:-1], 16))
        if escape.startswith("&#"):
            return chr(int(escape[2:-1]))
    except (ValueError, UnicodeDecodeError, OverflowError):
        return None
    return html.entities.html5.get(escape[1:])


def _round(text: str) -> tuple[str, list[tuple[int, int]]] | None:
    """One decoding pass: the decoded text and each decoded character's span in ``text`` (None: nothing decoded)."""
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    changed = False
    for m in _ESCAPE.finditer(text):
        decoded = _decode_one(m.group())
        if decoded is None:
            continue
        for i in range(pos, m.start()):
            out.append(text[i])
            spans.append((i, i + 1))
        if m.group().startswith("%") and decoded.isascii() and len(decoded) == (m.end() - m.start()) // 3:
            spans.extend((m.start() + 3 * i, m.start() + 3 * i + 3) for i in range(len(decoded)))
        else:  # multi-byte characters: each maps to the whole escape
            spans.extend((m.start(), m.end()) for _ in decoded)
        out.append(decoded)
        pos = m.end()
        changed = True
    if not changed:
        return None
    for i in range(pos, len(text)):
        out.append(text[i])
        spans.append((i, i + 1))
    return "".join(out), spans


def decoded_view(text: str) -> View | None:
    """The text with its escapes undone (None when it has none)."""
    first = _round(text)
    if first is None:
        return None
    decoded, spans = first
    for _ in range(ROUNDS - 1):
        nxt = _round(decoded)
        if nxt is None:
            break
        decoded, inner = nxt
        spans = [(spans[a][0], spans[b - 1][1]) for a, b in inner]
    return View(decoded, tuple(spans))


def decode(text: str) -> str:
    view = decoded_view(text)
    return view.text if view is not None else text


def detect_encoded(detector: Detector, texts: Sequence[str]) -> list[list[Finding]]:
    """Findings of ``detector`` in each text plus those only visible once its escapes are undone (offsets and
    values refer to the original text)."""
    found = detector.detect_many(texts)
    views = {i: v for i, t in enumerate(texts) if has_escapes(t) and (v := decoded_view(t)) is not None}
    if not views:
        return found
    order = sorted(views)
    extra = detector.detect_many([views[i].text for i in order])
    out = list(found)
    for i, fs in zip(order, extra, strict=True):
        text, view, plain = texts[i], views[i], out[i]
        added = []
        for f in fs:
            start, end = view.original(f.start, f.end)
            if end - start == f.end - f.start and text[start:end] == f.value:
                continue  # nothing escaped inside: the plain pass has judged this one already
            why = replace(f.explanation, notes=(*f.explanation.notes, "decoded=escapes"))
            added.append(Finding(f.entity, start, end, f.score, text[start:end], why))
        if added:
            out[i] = resolve([*plain, *added])  # the decoded e-mail beats the domain seen in its escaped tail
    return out
