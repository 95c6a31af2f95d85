"""Multi-pattern prefilter: one hyperscan pass says which patterns can match a text, and where.

Every recognizer pattern is compiled into one hyperscan database in PREFILTER mode, which guarantees a
superset of the real matches (lookarounds are dropped, backreferences are expanded to their group). Then:

* a pattern of bounded width ``W`` (most PII formats) reports every match end ``e``; a real match must start
  in ``[e - W, e)``, so Python's ``re`` runs only in those windows (plus the pattern's lookahead reach);
  hyperscan gets the pattern with large ``{m,n}`` loosened to ``{m,}`` (still a superset, much faster);
* an unbounded pattern (URLs, key blocks) reports once, and ``re`` scans the whole text.

Results are therefore exactly those of ``re.finditer`` while most text is read once at SIMD speed.

Non-ASCII text is projected to ASCII character by character before scanning, keeping each character's
regex class as Python sees it (decimal digit -> ``0``, word character -> a letter, its ASCII case-fold when it
has one, whitespace -> space, anything else -> DEL), so one fast ASCII database serves every text and offsets
stay the same. Patterns whose source holds non-ASCII characters run in full on non-ASCII texts.
Compiled databases are cached on disk (``$VEIL_CACHE_DIR`` or ``~/.cache/veil``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from veil.detect.regex_tools import expand_backreferences, loosen_repeats, max_lookahead, max_width

log = logging.getLogger(__name__)

_hs: Any
try:  # hyperscan is a core dependency, but a platform without wheels still works (slower)
    import hyperscan as _hs
except ImportError:  # pragma: no cover - exercised only where hyperscan has no wheel
    _hs = None

WINDOW_LIMIT = 1200  # patterns wider than this (with lookahead) scan whole texts


@dataclass(frozen=True)
class PatternSpec:
    regex: str
    flags: int  # Python re flags

    @property
    def ignorecase(self) -> bool:
        return bool(self.flags & re.IGNORECASE)


@dataclass
class Plan:
    """What to run on one text: whole-text patterns, and match ends per windowed pattern."""

    whole: set[int]
    ends: dict[int, list[int]]


class _Projection(dict[int, str]):
    """``str.translate`` table mapping each non-ASCII character to an ASCII one of the same regex class."""

    def __init__(self) -> None:
        super().__init__((c, chr(c)) for c in range(128))  # ASCII maps to itself without a lookup miss

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        if ch.isdecimal():
            out = "0"
        elif ch.isalnum():
            folded = [c for c in (ch.lower(), ch.upper()) if len(c) == 1 and c.isascii() and c.isalpha()]
            out = folded[0].lower() if folded else "a"
        elif ch.isspace():
            out = " "
        else:
            out = "\x7f"
        self[code] = out
        return out


_PROJECTION = _Projection()


def _cache_dir() -> Path:
    return Path(os.environ.get("VEIL_CACHE_DIR") or Path.home() / ".cache" / "veil")


class Prefilter:
    """Plans which of ``patterns`` to run on a text and where."""

    def __init__(self, patterns: Sequence[PatternSpec], *, enabled: bool = True) -> None:
        self.size = len(patterns)
        self._everything = frozenset(range(self.size))
        self.width = [max_width(p.regex, p.flags) for p in patterns]
        self.reach = [max_lookahead(p.regex, p.flags) + 1 for p in patterns]
        self.windowed = frozenset(i for i in range(self.size) if self.width[i] + self.reach[i] <= WINDOW_LIMIT)
        self.non_ascii_source = frozenset(i for i, p in enumerate(patterns) if not p.regex.isascii())
        self._db: Any = None
        self._local = threading.local()
        self.always: frozenset[int] = self._everything
        if _hs is not None and patterns and enabled:
            self._db, self.always = self._build(patterns)

    def _build(self, patterns: Sequence[PatternSpec]) -> tuple[Any, frozenset[int]]:
        exprs = [loosen_repeats(expand_backreferences(p.regex)).encode() for p in patterns]
        base = _hs.HS_FLAG_PREFILTER | _hs.HS_FLAG_MULTILINE | _hs.HS_FLAG_ALLOWEMPTY
        single = _hs.HS_FLAG_SINGLEMATCH
        flags = [
            base | (_hs.HS_FLAG_CASELESS if p.ignorecase else 0) | (0 if i in self.windowed else single)
            for i, p in enumerate(patterns)
        ]
        key = hashlib.sha256(repr((exprs, flags, getattr(_hs, "__version__", "?"))).encode()).hexdigest()[:32]
        cached = _load(key)
        if cached is not None:
            return cached
        failed = {i for i, (e, f) in enumerate(zip(exprs, flags, strict=True)) if not _compiles(e, f)}
        keep = [i for i in range(self.size) if i not in failed]
        if not keep:
            return None, self._everything
        db = _hs.Database(mode=_hs.HS_MODE_BLOCK)
        db.compile(expressions=[exprs[i] for i in keep], ids=keep, elements=len(keep), flags=[flags[i] for i in keep])
        _store(key, db, failed)
        if failed:
            log.info("hyperscan prefilter: %d pattern(s) always run: %s", len(failed), sorted(failed))
        return db, frozenset(failed)

    def _scratch(self) -> Any:
        """Hyperscan scratch space is single-user: one per thread (the guard scans from a thread pool)."""
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = _hs.Scratch(self._db)
            self._local.scratch = scratch
        return scratch

    def plan(self, text: str) -> Plan:
        """Where each pattern may match ``text``: a superset of the real matches of Python's ``re``."""
        if self._db is None:
            return Plan(set(self._everything), {})
        whole = set(self.always)
        if text.isascii():
            data = text.encode("ascii")
        else:
            data = text.translate(_PROJECTION).encode("ascii")
            whole |= self.non_ascii_source
        hits: list[tuple[int, int]] = []
        self._db.scan(data, match_event_handler=_collect, context=hits, scratch=self._scratch())
        ends: dict[int, list[int]] = {}
        windowed = self.windowed
        for pattern_id, end in hits:
            if pattern_id in whole:
                continue
            if pattern_id in windowed:
                ends.setdefault(pattern_id, []).append(end)
            else:
                whole.add(pattern_id)
        return Plan(whole, ends)

    def finditer(self, index: int, rx: re.Pattern[str], text: str, plan: Plan) -> Iterator[re.Match[str]]:
        """The matches ``rx.finditer(text)`` would give, found by searching only the planned windows."""
        if index in plan.whole:
            yield from rx.finditer(text)
            return
        ends = plan.ends.get(index)
        if not ends:
            return
        width, reach, n = self.width[index], self.reach[index], len(text)
        pos = 0
        i, count = 0, len(ends)
        while i < count:
            start = max(pos, ends[i] - width)
            last = ends[i]
            while i + 1 < count and ends[i + 1] - width <= last:
                i += 1
                last = ends[i]
            i += 1
            # Any match starting before `last` ends by last + width and its lookahead reads at most `reach` more.
            endpos = min(n, last + width + reach)
            while start < last:
                m = rx.search(text, start, endpos)
                if m is None or m.start() >= last:
                    break
                yield m
                pos = start = m.end() if m.end() > m.start() else m.end() + 1


def _collect(pattern_id: int, start: int, end: int, flags: int, hits: list[tuple[int, int]]) -> None:
    hits.append((pattern_id, end))


def _compiles(expr: bytes, flag: int) -> bool:
    try:
        _hs.Database(mode=_hs.HS_MODE_BLOCK).compile(expressions=[expr], ids=[0], elements=1, flags=[flag])
    except _hs.error:
        return False
    return True


def _load(key: str) -> tuple[Any, frozenset[int]] | None:
    path = _cache_dir() / f"prefilter-{key}.hsdb"
    try:
        raw = path.read_bytes()
        failed = frozenset(int(x) for x in path.with_suffix(".failed").read_text().split())
        db = _hs.loadb(raw, mode=_hs.HS_MODE_BLOCK)
        db.scratch = _hs.Scratch(db)  # a deserialized database has no scratch space yet
    except (OSError, ValueError, _hs.error):
        return None
    return db, failed


def _store(key: str, db: Any, failed: set[int]) -> None:
    path = _cache_dir() / f"prefilter-{key}.hsdb"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.with_suffix(".failed").write_text(" ".join(map(str, sorted(failed))))
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_bytes(_hs.dumpb(db))
        os.replace(tmp, path)
    except OSError as exc:  # a read-only home is fine: we just compile next time too
        log.debug("could not cache the prefilter database: %s", exc)
