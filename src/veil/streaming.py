"""Restoring streamed answers: a token may arrive split over chunks ("<PERS" + "ON_1>").

The restorer emits everything it can and holds back only a suffix that could still grow into a token (checked
with partial regex matching on the same finders ``restore`` uses). So a chunk is delayed only while it ends in
what may be the start of a token, and never by more than one chunk for a token that is complete.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import regex

MAX_TOKEN = 160  # longest token the restorer waits for


class StreamRestorer:
    def __init__(self, restore: Callable[[str], str], finders: Sequence[str], start_chars: str) -> None:
        self._restore = restore
        self._partials = [regex.compile(p, regex.IGNORECASE | regex.V0) for p in finders]
        self._starts = frozenset(start_chars.lower() + start_chars.upper())
        self._buffer = ""

    def feed(self, delta: str) -> str:
        """The restored text that can be sent now."""
        buf = self._buffer + delta
        cut = self._hold_from(buf)
        out, self._buffer = buf[:cut], buf[cut:]
        return self._restore(out) if out else ""

    def flush(self) -> str:
        """Whatever is left at the end of the stream, restored."""
        out, self._buffer = self._buffer, ""
        return self._restore(out) if out else ""

    def _hold_from(self, buf: str) -> int:
        for i in range(max(0, len(buf) - MAX_TOKEN), len(buf)):
            if buf[i] not in self._starts:
                continue
            tail = buf[i:]
            if any(p.fullmatch(tail, partial=True) for p in self._partials):
                return i
        return len(buf)
